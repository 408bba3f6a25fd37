/**
 * Consumer machinery: handlers return typed outcomes, middleware adds retry/backoff,
 * dead-lettering, dedup and logging, and `settle()` is the only code that acks or retries.
 *
 * A per-message consumer (e.g. the notifier):
 *
 * ```ts
 * import { compose, consumeBatch, consumed, createLogger, queueDeadLetterSink, retryLater,
 *   withDeadLetter, withDedup, withLogging, withReadableBodies, withRetry } from "./index.ts";
 *
 * export default {
 *   async queue(delivered: MessageBatch, env: Env): Promise<void> {
 *     const batch = withReadableBodies(delivered);             // events arrive as JSON text
 *     const logger = createLogger({ consumer: "notifier", queue: batch.queue });
 *     const retry = { maxRetries: 5 }; // = max_retries of the queue in wrangler.toml
 *     const handler = compose<CloudEventRecord>(
 *       async (message) => {
 *         const result = await send(message.body);            // throw EdgebusError on failure:
 *         return consumed();                                   //  retryable → backoff, else → DLQ
 *       },
 *       withLogging(logger),                                   // outermost: logs the final outcome
 *       withRetry(retry),                                      // backoff / exhausted → DLQ
 *       withDedup({ consumer: "notifier", ledger, keyOf: (e) => ({ source: e.source, id: e.id }) }),
 *       withDeadLetter({ reject: (body) => (isCloudEvent(body) ? undefined : "not a CloudEvent") }),
 *     );
 *     await consumeBatch(batch, handler, {
 *       queue: batch.queue, consumer: "notifier", retry, logger,
 *       deadLetters: queueDeadLetterSink(env.NOTIFICATIONS_DLQ),
 *       metrics: postgresConsumerMetrics(sql),                 // #shared/db/consumer-metrics-store.ts
 *     });                                                      // never throws; acks/retries every message
 *   },
 * };
 * ```
 *
 * A batch consumer (one transaction per batch, e.g. citizen-sync) computes a
 * `Map<messageId, Outcome>` and calls `settleBatch(batch, outcomes, context)`.
 *
 * Both count the batch once every message is settled (`consumer-metrics.ts`: messages by outcome,
 * batch size and duration, event age) and write the counts to `context.metrics` in one call; a
 * failed write is logged, never retried, and never changes how a message was settled.
 *
 * Outcomes: `consumed()`, `retryLater(error, delaySeconds?)`, `deadLetter(error)`, `poison(reason)`;
 * a thrown `EdgebusError` with `retryable: true` is retried with exponential backoff and full
 * jitter (base 1 s, cap 1 h, at least the error's `retryAfterSeconds`, at most 86400 s), one
 * with `retryable: false` goes to `<queue>-dlq` at once; on the last delivery
 * (`attempts > maxRetries`) a transient failure is dead-lettered with reason `exhausted`.
 */

export { createLogger, eventLogFields, type LogFields, type Logger, type LogLevel } from "../log.ts";
export { type BackoffOptions, backoffDelaySeconds, QUEUES_MAX_DELAY_SECONDS } from "./backoff.ts";
export { type BatchContext, type ConsumeOptions, consumeBatch, settleBatch } from "./consume-batch.ts";
export {
  type ConsumerMessage,
  type QueueBatch,
  type QueueMessage,
  toConsumerMessage,
} from "./consumer-message.ts";
export {
  type BatchCounts,
  BatchMetrics,
  type ConsumerMetricsSink,
  HISTOGRAM_BOUNDS,
  MESSAGE_OUTCOMES,
  type MessageOutcome,
  messageOutcome,
  writeBatchMetrics,
} from "./consumer-metrics.ts";
export {
  DEAD_LETTER_KIND,
  type DeadLetterMessage,
  type DeadLetterSink,
  deadLetterMessageSchema,
  queueDeadLetterSink,
} from "./dead-letter-message.ts";
export { compose, type Handler, type Middleware } from "./handler.ts";
export {
  type ConsumedNote,
  consumed,
  type DeadLetterReason,
  deadLetter,
  type Outcome,
  outcomeFromError,
  poison,
  retryLater,
} from "./outcome.ts";
export { withReadableBodies } from "./readable-bodies.ts";
export { applyRetryPolicy, isLastDelivery, type RetryPolicy } from "./retry-policy.ts";
export { type SettleContext, type Settlement, settle } from "./settle.ts";
export { type DeadLetterOptions, withDeadLetter } from "./with-dead-letter.ts";
export { type DedupOptions, type ProcessedEvents, withDedup } from "./with-dedup.ts";
export { withLogging } from "./with-logging.ts";
export { withRetry } from "./with-retry.ts";
