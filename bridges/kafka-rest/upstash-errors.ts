import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { EdgebusError, toEdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";

const log = createLogger({ component: "kafka-rest" });

/**
 * The Upstash REST error body is `{error: string, status: number}` and `@upstash/kafka` reads
 * `body.error` as the message, so that shape is kept; `code` (edgebus's closed error code) is
 * added for machines and does not disturb the client.
 */
export function upstashErrorResponse(c: Context, error: unknown): Response {
  const failure = toEdgebusError(error);
  if (failure.code === "internal") log.log("error", "internal error", { path: c.req.path, ...errorLogFields(error) });
  const body: { error: string; status: number; code: string; details?: unknown } = {
    error: failure.message,
    status: failure.status,
    code: failure.code,
  };
  if (failure.details !== undefined && failure.code !== "upstream_unavailable") body.details = failure.details;
  if (failure.retryAfterSeconds !== undefined) c.header("retry-after", String(failure.retryAfterSeconds));
  return c.json(body, failure.status as ContentfulStatusCode);
}

export function badRequest(message: string, details?: unknown): EdgebusError {
  return new EdgebusError("bad_request", message, { details });
}
