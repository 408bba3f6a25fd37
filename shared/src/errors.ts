/**
 * The one error type of edgebus. Every failure that crosses a module boundary is an
 * `EdgebusError` with a code from the closed list below; HTTP layers map the code to a status
 * and render `{error: {code, message, details?, request_id}}` (see `errorBody`).
 *
 * `retryable` tells consumers and clients whether trying again can succeed (a broker that is
 * down) or cannot (a schema violation). Consumers decide ack / retry / dead-letter from it.
 */

export const ERROR_CODES = {
  bad_request: 400,
  malformed_json: 400,
  invalid_envelope: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  schema_validation_failed: 422,
  unknown_event_type: 422,
  rate_limited: 429,
  upstream_unavailable: 503,
  /** Outside development: dedup and rate limits would use isolate memory (no shared Redis). */
  dedup_not_shared: 503,
  /** Outside development: some of the Kafka REST settings are set, not all. */
  kafka_misconfigured: 503,
  /** `GET /readyz`: Redis (dedup and rate limits) did not answer its probe in time, or not as expected. */
  redis_unavailable: 503,
  /** `GET /readyz`: the Kafka REST endpoint did not answer its probe in time, or not as expected. */
  kafka_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes whose failure may go away on a retry; all others are permanent for the same input. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set(["rate_limited", "upstream_unavailable", "internal"]);

export interface EdgebusErrorOptions {
  details?: unknown;
  cause?: unknown;
  /** Overrides the code's default retryability. */
  retryable?: boolean;
  /** Seconds after which a retry may succeed (rate limits, provider `Retry-After`). */
  retryAfterSeconds?: number;
}

export class EdgebusError extends Error {
  override readonly name = "EdgebusError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: EdgebusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = options.details;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isEdgebusError(value: unknown): value is EdgebusError {
  return value instanceof EdgebusError;
}

/** Wraps anything thrown into an EdgebusError without leaking its text to clients. */
export function toEdgebusError(value: unknown): EdgebusError {
  if (isEdgebusError(value)) return value;
  return new EdgebusError("internal", "internal error", { cause: value });
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; request_id: string };
}

export function errorBody(error: EdgebusError, requestId: string): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message, request_id: requestId } };
  if (error.details !== undefined) body.error.details = error.details;
  return body;
}
