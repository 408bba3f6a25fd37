/**
 * The one error body of edgebus, checked strictly: `{error: {code, message, details?,
 * request_id}}` with a code from the closed list, a non-empty reason and a request id, and
 * nothing else at the top level. Returns what is wrong, or undefined.
 */
import { ERROR_CODES } from "#shared/errors.ts";

export function edgebusErrorProblem(status: number, text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${status} body is not JSON: ${text.slice(0, 200)}`;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return `${status} body is not an object`;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== "error") return `${status} body has keys ${keys.join(",")}, expected only error`;
  const error = (body as { error: unknown }).error;
  if (typeof error !== "object" || error === null) return `${status} error is not an object`;
  const { code, message, request_id: requestId, ...rest } = error as Record<string, unknown>;
  if (typeof code !== "string" || !(code in ERROR_CODES))
    return `${status} code ${String(code)} is not an edgebus code`;
  if (ERROR_CODES[code as keyof typeof ERROR_CODES] !== status) return `${status} does not match code ${code}`;
  if (typeof message !== "string" || message.trim() === "") return `${status} has no reason`;
  if (typeof requestId !== "string" || requestId === "") return `${status} has no request_id`;
  const extra = Object.keys(rest).filter((k) => k !== "details");
  if (extra.length > 0) return `${status} error has unexpected fields ${extra.join(",")}`;
  return undefined;
}
