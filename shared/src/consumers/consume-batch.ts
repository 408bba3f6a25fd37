import { EdgebusError } from "../errors.ts";
import { type QueueBatch, type QueueMessage, toConsumerMessage } from "./consumer-message.ts";
import type { Handler } from "./handler.ts";
import { type Outcome, outcomeFromError, retryLater } from "./outcome.ts";
import { type SettleContext, type Settlement, settle } from "./settle.ts";

export interface ConsumeOptions {
  /** Messages handled at once. Default 1 (in order); Workers allow 6 open connections. */
  readonly concurrency?: number;
}

/**
 * Runs a per-message handler over a batch and settles every message. Never throws: a handler
 * that throws is classified like any error, so `queue()` can simply `await` this.
 */
export async function consumeBatch<Body>(
  batch: QueueBatch<Body>,
  handler: Handler<Body>,
  context: SettleContext,
  { concurrency = 1 }: ConsumeOptions = {},
): Promise<Settlement[]> {
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
      settlements[index] = await settle(message, outcome, context);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, batch.messages.length)) }, worker));
  return settlements;
}

/**
 * Settles a batch whose messages were handled together (one transaction for the batch, as
 * citizen-sync does). `outcomes` maps message id → outcome; a message the batch handler forgot
 * is retried rather than acked, so a bug cannot drop events. Never throws.
 */
export async function settleBatch(
  batch: QueueBatch,
  outcomes: ReadonlyMap<string, Outcome>,
  context: SettleContext,
): Promise<Settlement[]> {
  const settlements: Settlement[] = [];
  for (const message of batch.messages) {
    const outcome =
      outcomes.get(message.id) ?? retryLater(new EdgebusError("internal", "the batch handler returned no outcome"));
    settlements.push(await settle(message, outcome, context));
  }
  return settlements;
}
