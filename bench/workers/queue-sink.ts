/** Acknowledges every message of the queues it consumes (bench only: keeps the local queues empty). */
export default {
  queue(batch: MessageBatch): void {
    batch.ackAll();
  },
} satisfies ExportedHandler;
