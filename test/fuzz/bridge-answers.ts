/**
 * What a bridge answer must look like, per area. `/kafka` and `/redis` speak the Upstash wire
 * shapes (the `@upstash/*` clients read `body.error` as a string) with edgebus's closed `code`
 * beside it; everything else (`/v1/mirror`, unknown paths, requests Node's parser refuses) uses
 * edgebus's `{error: {code, message, request_id}}`. Returns what is wrong, or undefined.
 */
import { ERROR_CODES } from "#shared/errors.ts";
import { edgebusErrorProblem } from "./support/error-shape.ts";

function isCode(value: unknown): value is keyof typeof ERROR_CODES {
  return typeof value === "string" && value in ERROR_CODES;
}

/** Redis's own error replies start with an upper-case code (`ERR`, `WRONGTYPE`, `NOSCRIPT`…). */
const REDIS_ERROR_REPLY = /^[A-Z]{2,}[A-Z_]* \S/;

export function bridgeRejectionProblem(path: string, status: number, text: string): string | undefined {
  const area = path.split("/")[1] ?? "";
  // Headers over Node's limit are refused before any area sees them: 431 with the closest closed code.
  if (status === 431) return edgebusErrorProblem(413, text);
  if (area !== "kafka" && area !== "redis") return edgebusErrorProblem(status, text);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${status} body is not JSON: ${text.slice(0, 200)}`;
  }
  if (typeof body !== "object" || body === null) return `${status} body is not an object`;
  const { error, code } = body as { error?: unknown; code?: unknown };
  if (typeof error === "object" && error !== null) return edgebusErrorProblem(status, text);
  if (typeof error !== "string" || error.trim() === "") return `${status} has no reason string`;
  if (area === "redis" && code === undefined && status === 400 && REDIS_ERROR_REPLY.test(error)) return undefined;
  if (!isCode(code)) return `${status} has no edgebus code: ${text.slice(0, 200)}`;
  if (ERROR_CODES[code] !== status) return `${status} does not match code ${code}`;
  if (area === "kafka" && (body as { status?: unknown }).status !== status) return `${status} body.status differs`;
  return undefined;
}
