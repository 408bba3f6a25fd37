/**
 * Consumer of the contract queues: stores each delivered body (read as consumers read it,
 * `readQueueBody`) in KV under
 * `<queue>:<run>:<index>` (index zero-padded) so the suite lists one run's messages in index
 * order. Queues do not promise delivery order, so the order checked is the contract's, not the
 * queue's.
 */
import { readQueueBody } from "#shared/envelope/queue-message.ts";

export interface QueueSinkEnv {
  RECEIVED: KVNamespace;
}

interface ContractBody {
  data?: { run?: string; index?: number };
}

export default {
  async queue(batch: MessageBatch<unknown>, env: QueueSinkEnv): Promise<void> {
    await Promise.all(
      batch.messages.map(async (message) => {
        const body = readQueueBody(message.body) as ContractBody;
        const run = body.data?.run ?? "unknown";
        const index = String(body.data?.index ?? 0).padStart(6, "0");
        await env.RECEIVED.put(`${batch.queue}:${run}:${index}`, JSON.stringify(body));
        message.ack();
      }),
    );
  },
} satisfies ExportedHandler<QueueSinkEnv, unknown>;
