import { eventLogFields, type Logger } from "../log.ts";
import { backoffDelaySeconds } from "./backoff.ts";
import type { QueueMessage } from "./consumer-message.ts";
import { DEAD_LETTER_KIND, type DeadLetterMessage, type DeadLetterSink } from "./dead-letter-message.ts";
import type { Outcome } from "./outcome.ts";
import { applyRetryPolicy, type RetryPolicy } from "./retry-policy.ts";

/** What settling needs to know about the consumer. */
export interface SettleContext {
  /** Queue the batch came from (`batch.queue`). */
  readonly queue: string;
  /** Consumer name recorded in dead letters and logs, e.g. `citizen-sync:permits`. */
  readonly consumer: string;
  readonly retry: RetryPolicy;
  /** Producer binding of `<queue>-dlq`. */
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** What `settle` did to the message. */
export type Settlement =
  | { readonly action: "ack" }
  | { readonly action: "retry"; readonly delaySeconds: number }
  | { readonly action: "dead-letter" };

/**
 * The only code in edgebus that calls `msg.ack()` / `msg.retry()`. Guarantees:
 * - `consumed` → ack;
 * - `retry-later` → `retry({ delaySeconds })` with backoff, or on the last delivery a dead letter
 *   (the retry policy is applied here again, so a handler cannot bypass it);
 * - `dead-letter` → the body plus error metadata is sent to `<queue>-dlq` and only after the DLQ
 *   accepted it is the original acked; if the DLQ send fails the original is retried, so a
 *   message is never dropped;
 * - never throws.
 */
export async function settle(message: QueueMessage, outcome: Outcome, context: SettleContext): Promise<Settlement> {
  const decided = applyRetryPolicy(outcome, message.attempts, context.retry);
  if (decided.kind === "consumed") {
    message.ack();
    return { action: "ack" };
  }
  if (decided.kind === "retry-later") {
    const delaySeconds =
      decided.delaySeconds ?? backoffDelaySeconds(message.attempts, undefined, context.retry.backoff);
    message.retry({ delaySeconds });
    return { action: "retry", delaySeconds };
  }
  const now = (context.now ?? (() => new Date()))();
  const letter: DeadLetterMessage = {
    kind: DEAD_LETTER_KIND,
    version: 1,
    queue: context.queue,
    consumer: context.consumer,
    message_id: message.id,
    attempts: message.attempts,
    enqueued_at: message.timestamp.toISOString(),
    failed_at: now.toISOString(),
    error: {
      code: decided.error.code,
      message: decided.error.message,
      reason: decided.reason,
      type: causeName(decided.error),
      ...(decided.error.details === undefined ? {} : { details: decided.error.details }),
    },
    body: message.body,
  };
  try {
    try {
      await context.deadLetters.send(letter);
    } catch (firstFailure) {
      // The likeliest permanent refusal is size (128 KB per message): the body must survive,
      // the error details need not, so try once more without them.
      if (letter.error.details === undefined) throw firstFailure;
      const { details: _dropped, ...withoutDetails } = letter.error;
      await context.deadLetters.send({ ...letter, error: withoutDetails });
    }
    message.ack();
    context.logger.log("error", "message dead-lettered", {
      request_id: message.id,
      queue: context.queue,
      consumer: context.consumer,
      attempts: message.attempts,
      error_code: decided.error.code,
      error_message: decided.error.message,
      note: decided.reason,
      ...eventLogFields(message.body),
    });
    return { action: "dead-letter" };
  } catch (thrown) {
    const delaySeconds = backoffDelaySeconds(message.attempts, undefined, context.retry.backoff);
    message.retry({ delaySeconds });
    context.logger.log("error", "dead-letter queue refused the message; retrying the original", {
      request_id: message.id,
      queue: context.queue,
      consumer: context.consumer,
      delay_seconds: delaySeconds,
      error_message: thrown instanceof Error ? thrown.message : String(thrown),
    });
    return { action: "retry", delaySeconds };
  }
}

function causeName(error: Error): string {
  const cause = error.cause;
  if (cause instanceof Error) return cause.name;
  if (typeof cause === "object" && cause !== null && "name" in cause && typeof cause.name === "string")
    return cause.name;
  return error.name;
}
