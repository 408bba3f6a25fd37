import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { EdgebusError, toEdgebusError } from "#shared/errors.ts";

/**
 * The Upstash REST error body is `{error: string, status: number}` and `@upstash/kafka` reads
 * `body.error` as the message, so that shape is kept; `code` (edgebus's closed error code) is
 * added for machines and does not disturb the client.
 */
export function upstashErrorResponse(c: Context, error: unknown): Response {
  const failure = toEdgebusError(error);
  if (failure.code === "internal") console.error("kafka-rest: internal error", error);
  const body: { error: string; status: number; code: string; details?: unknown } = {
    error: failure.message,
    status: failure.status,
    code: failure.code,
  };
  if (failure.details !== undefined && failure.code !== "upstream_unavailable") body.details = failure.details;
  return c.json(body, failure.status as ContentfulStatusCode);
}

export function badRequest(message: string, details?: unknown): EdgebusError {
  return new EdgebusError("bad_request", message, { details });
}
