import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { EdgebusError, toEdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { withDeadline } from "../deadline.ts";

const log = createLogger({ component: "kafka-rest" });

/** An error as the gateway answers it: status, JSON body and, when retryable, `Retry-After`. */
export interface UpstashErrorAnswer {
  readonly status: number;
  readonly body: { error: string; status: number; code: string; details?: unknown };
  readonly retryAfter?: string;
}

/**
 * The Upstash REST error body is `{error: string, status: number}` and `@upstash/kafka` reads
 * `body.error` as the message, so that shape is kept; `code` (edgebus's closed error code) is
 * added for machines and does not disturb the client. Internal errors are logged with `path`.
 */
export function upstashError(error: unknown, path: string): UpstashErrorAnswer {
  const failure = toEdgebusError(error);
  if (failure.code === "internal") log.log("error", "internal error", { path, ...errorLogFields(error) });
  const body: UpstashErrorAnswer["body"] = {
    error: failure.message,
    status: failure.status,
    code: failure.code,
  };
  if (failure.details !== undefined && failure.code !== "upstream_unavailable") body.details = failure.details;
  return {
    status: failure.status,
    body,
    ...(failure.retryAfterSeconds === undefined ? {} : { retryAfter: String(failure.retryAfterSeconds) }),
  };
}

/** `upstashError` as a Hono response (the gateway app's `onError`). */
export function upstashErrorResponse(c: Context, error: unknown): Response {
  const answer = upstashError(error, c.req.path);
  if (answer.retryAfter !== undefined) c.header("retry-after", answer.retryAfter);
  return c.json(answer.body, answer.status as ContentfulStatusCode);
}

export function badRequest(message: string, details?: unknown): EdgebusError {
  return new EdgebusError("bad_request", message, { details });
}

/** Upstash's default for `?timeout=` on `/committed` and `/offsets`: 10 s. */
const DEFAULT_ADMIN_TIMEOUT_MS = 10_000;
/** The longest `?timeout=` honoured: a caller cannot hold a request (and its Kafka call) longer. */
const MAX_ADMIN_TIMEOUT_MS = 60_000;

/**
 * The `?timeout=` query parameter of `/committed` and `/offsets` (ms, default 10,000, at most
 * 60,000): how long the caller waits for Kafka's answer before a 503.
 */
export function adminTimeout(c: Context): number {
  const raw = c.req.query("timeout");
  if (raw === undefined) return DEFAULT_ADMIN_TIMEOUT_MS;
  if (!/^\d{1,7}$/.test(raw)) throw badRequest("timeout must be milliseconds");
  return Math.min(Math.max(Number(raw), 1), MAX_ADMIN_TIMEOUT_MS);
}

/**
 * `work`, or a retryable `upstream_unavailable` (503, Retry-After: 1) once `timeoutMs` has passed
 * without its answer. The Kafka call itself goes on and its late answer is dropped.
 */
export function withinTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return withDeadline(
    work,
    timeoutMs,
    () =>
      new EdgebusError("upstream_unavailable", `${what}: Kafka did not answer within ${timeoutMs} ms`, {
        retryAfterSeconds: 1,
      }),
  );
}
