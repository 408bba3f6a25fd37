import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type EdgebusError, errorBody, toEdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import type { ProducerEnv } from "./hono-env.ts";

const producerLog = createLogger({ component: "producer" });

/**
 * The one place that turns a thrown error into an HTTP response: `{error: {code, message,
 * details?, request_id}}` with the code's status, `Retry-After` when a retry can succeed later,
 * `WWW-Authenticate` on 401 and `Allow` on 405. Internal errors are logged with their cause and
 * answered without it.
 */
export function errorResponse(error: unknown, c: Context<ProducerEnv>): Response {
  const failure: EdgebusError = toEdgebusError(error);
  const requestId = c.get("requestId") ?? "unknown";
  if (failure.status >= 500) {
    producerLog.log("error", failure.message, {
      request_id: requestId,
      error_code: failure.code,
      ...(failure.cause === undefined ? {} : { note: `cause: ${errorLogFields(failure.cause).error_message}` }),
    });
  }
  const headers: Record<string, string> = {};
  if (failure.retryAfterSeconds !== undefined) headers["Retry-After"] = String(Math.ceil(failure.retryAfterSeconds));
  if (failure.status === 401) headers["WWW-Authenticate"] = 'Bearer realm="edgebus"';
  if (failure.status === 405) {
    const allow = (failure.details as { allow?: string[] } | undefined)?.allow;
    if (allow) headers.Allow = allow.join(", ");
  }
  return c.json(errorBody(failure, requestId), failure.status as ContentfulStatusCode, headers);
}
