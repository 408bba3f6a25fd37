import { EdgebusError } from "../errors.ts";
import { type QueueBatch, type QueueMessage, toConsumerMessage } from "./consumer-message.ts";
import { BatchMetrics, type ConsumerMetricsSink, messageOutcome, writeBatchMetrics } from "./consumer-metrics.ts";
import type { Handler } from "./handler.ts";
import { type Outcome, outcomeFromError, retryLater } from "./outcome.ts";
import { type SettleContext, type Settlement, settle } from "./settle.ts";

export interface ConsumeOptions {
  /** Messages handled at once. Default 1 (in order); Workers allow 6 open connections. */
  readonly concurrency?: number;
}

/** What settling a whole batch needs: the per-message context, and where the batch's counts go. */
export interface BatchContext extends SettleContext {
  /**
   * Where the batch's counts go once every message is settled (`postgresConsumerMetrics`); `null`
   * only where there is nowhere to write them (a misconfigured deployment). Required, so no
   * consumer can forget its metrics.
   */
  readonly metrics: ConsumerMetricsSink | null;
  /** When the Worker received the batch (ms since the epoch), for the batch duration; default: when settling began. */
  readonly receivedAt?: number;
}

/**
 * Runs a per-message handler over a batch and settles every message. Never throws: a handler
 * that throws is classified like any error, so `queue()` can simply `await` this. Counts the batch
 * into `context.metrics` after the last message is settled.
 */
export async function consumeBatch<Body>(
  batch: QueueBatch<Body>,
  handler: Handler<Body>,
  context: BatchContext,
  { concurrency = 1 }: ConsumeOptions = {},
): Promise<Settlement[]> {
  const now = () => (context.now ?? (() => new Date()))().getTime();
  const metrics = new BatchMetrics(context.consumer, batch.queue, context.receivedAt ?? now());
  const settlements: Settlement[] = new Array(batch.messages.length);
  let next = 0;
  const worker = async () => {
    while (next < batch.messages.length) {
      const index = next++;
      const message = batch.messages[index] as QueueMessage<Body>;
      let outcome: Outcome;
      try {
        outcome = await handler(toConsumerMessage(batch.queue, message));
      } catch (thrown) {
        outcome = outcomeFromError(thrown);
      }
      const settlement = await settle(message, outcome, context);
      settlements[index] = settlement;
      metrics.observe(message, messageOutcome(outcome, settlement), now());
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, batch.messages.length)) }, worker));
  if (context.metrics !== null) await writeBatchMetrics(context.metrics, metrics.finish(now()), context.logger);
  return settlements;
}

/**
 * Settles a batch whose messages were handled together (one transaction for the batch, as
 * citizen-sync does). `outcomes` maps message id → outcome; a message the batch handler forgot
 * is retried rather than acked, so a bug cannot drop events. Never throws. Counts the batch into
 * `context.metrics` after the last message is settled.
 */
export async function settleBatch(
  batch: QueueBatch,
  outcomes: ReadonlyMap<string, Outcome>,
  context: BatchContext,
): Promise<Settlement[]> {
  const now = () => (context.now ?? (() => new Date()))().getTime();
  const metrics = new BatchMetrics(context.consumer, batch.queue, context.receivedAt ?? now());
  const settlements: Settlement[] = [];
  for (const message of batch.messages) {
    const outcome =
      outcomes.get(message.id) ?? retryLater(new EdgebusError("internal", "the batch handler returned no outcome"));
    const settlement = await settle(message, outcome, context);
    settlements.push(settlement);
    metrics.observe(message, messageOutcome(outcome, settlement), now());
  }
  if (context.metrics !== null) await writeBatchMetrics(context.metrics, metrics.finish(now()), context.logger);
  return settlements;
}
