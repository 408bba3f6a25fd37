/**
 * The producer app (`createProducerApp`, every step from the API key to the receipts) with a queue
 * publisher that answers each publish with the queues' receipts and sends nothing. Used by
 * `bench/producer-stages.ts` only: against the real producer it shows what the queue sends cost in
 * local workerd, against the empty Hono route what the producer's own work costs there.
 */

import { createProducerApp } from "../../workers/producer/src/app.ts";
import type { OutgoingMessage, Publisher, PublishReceipt } from "../../workers/producer/src/brokers/publisher.ts";

class ReceiptOnlyPublisher implements Publisher {
  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<PublishReceipt[]> {
    // What QueuePublisher answers once sendBatch resolved: one frozen receipt for the call.
    const receipt: PublishReceipt = Object.freeze({ destination, partition: null, offset: null });
    return messages.map(() => receipt);
  }

  async close(): Promise<void> {}
}

const app = createProducerApp({ capabilities: () => ({ queues: new ReceiptOnlyPublisher() }) });

export default {
  fetch: (request: Request, env: Record<string, unknown>, ctx: ExecutionContext) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Record<string, unknown>>;
