import { type BackoffOptions, backoffDelaySeconds, QUEUES_MAX_DELAY_SECONDS } from "./backoff.ts";
import { deadLetter, type Outcome } from "./outcome.ts";

/**
 * How a consumer retries. `maxRetries` must equal the queue's `max_retries` in its wrangler
 * config: Cloudflare delivers a message at most `max_retries + 1` times, so delivery number
 * `maxRetries + 1` is the last one and a failure there is dead-lettered by edgebus itself (with
 * the error) instead of being moved silently by the platform.
 */
export interface RetryPolicy {
  readonly maxRetries: number;
  readonly backoff?: BackoffOptions;
}

export function isLastDelivery(attempts: number, policy: RetryPolicy): boolean {
  return attempts > policy.maxRetries;
}

/**
 * Resolves a `retry-later` outcome into a concrete decision: the backoff delay (honouring the
 * error's `retryAfterSeconds`) or, on the last delivery, a dead letter with reason `exhausted`.
 * Other outcomes pass through. Idempotent, so `withRetry` and `settle` may both apply it.
 */
export function applyRetryPolicy(outcome: Outcome, attempts: number, policy: RetryPolicy): Outcome {
  if (outcome.kind !== "retry-later") return outcome;
  if (isLastDelivery(attempts, policy)) return deadLetter(outcome.error, "exhausted");
  if (outcome.delaySeconds !== undefined) {
    // A handler's own delay still has to be a whole number of seconds Queues accepts.
    const delaySeconds = Math.min(QUEUES_MAX_DELAY_SECONDS, Math.max(0, Math.ceil(outcome.delaySeconds)));
    return delaySeconds === outcome.delaySeconds ? outcome : { ...outcome, delaySeconds };
  }
  return {
    kind: "retry-later",
    error: outcome.error,
    delaySeconds: backoffDelaySeconds(attempts, outcome.error.retryAfterSeconds, policy.backoff),
  };
}
