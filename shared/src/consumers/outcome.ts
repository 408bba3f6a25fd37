import { EdgebusError, toEdgebusError } from "../errors.ts";

/**
 * What a consumer handler decided about one message. Handlers return (or throw) these instead
 * of booleans; `settle()` turns them into exactly one of ack / retry / dead-letter.
 *
 * - `consumed`: the effect is done (or was already done: `duplicate` / `stale`); ack.
 * - `retry-later`: a transient failure; retry with backoff (`delaySeconds` is filled in by
 *   `withRetry`, a handler may leave it out).
 * - `dead-letter`: retrying cannot help (`permanent`: poison, schema-invalid, 4xx) or the
 *   retries ran out (`exhausted`); the message goes to `<queue>-dlq` with the error.
 */
export type Outcome =
  | { readonly kind: "consumed"; readonly note?: ConsumedNote }
  | { readonly kind: "retry-later"; readonly error: EdgebusError; readonly delaySeconds?: number }
  | { readonly kind: "dead-letter"; readonly error: EdgebusError; readonly reason: DeadLetterReason };

/** Why a consumed message had no new effect; only for logs and metrics. */
export type ConsumedNote = "applied" | "duplicate" | "stale";
export type DeadLetterReason = "permanent" | "exhausted";

export function consumed(note: ConsumedNote = "applied"): Outcome {
  return { kind: "consumed", note };
}

export function retryLater(error: EdgebusError, delaySeconds?: number): Outcome {
  return delaySeconds === undefined ? { kind: "retry-later", error } : { kind: "retry-later", error, delaySeconds };
}

export function deadLetter(error: EdgebusError, reason: DeadLetterReason = "permanent"): Outcome {
  return { kind: "dead-letter", error, reason };
}

/**
 * Classifies anything a handler threw: an `EdgebusError` keeps its own `retryable`; anything
 * else (a bug, a driver error that was not translated) is treated as transient, because a
 * retry is cheap and dead-lettering a good event on a bug would lose it silently.
 */
export function outcomeFromError(thrown: unknown): Outcome {
  const error = toEdgebusError(thrown);
  return error.retryable ? retryLater(error) : deadLetter(error, "permanent");
}

/** A permanent failure for a message body that is not what the consumer accepts. */
export function poison(message: string, details?: unknown): Outcome {
  return deadLetter(new EdgebusError("invalid_envelope", message, { details, retryable: false }), "permanent");
}
