import { readQueueBody } from "../envelope/queue-message.ts";
import type { QueueBatch, QueueMessage } from "./consumer-message.ts";

/**
 * The batch as consumers read it: each message's body through `readQueueBody`, so an event sent
 * as its JSON text (how edgebus writes events to queues) reaches the handler as the event object,
 * parsed once here, and a body sent as `json` passes unchanged. Acks and retries go to the
 * delivered messages themselves. Every event consumer's batch handler starts with this; without
 * it a handler would see text where it reads an event and dead-letter every message.
 */
export function withReadableBodies(batch: QueueBatch): QueueBatch {
  return { queue: batch.queue, messages: batch.messages.map(readableMessage) };
}

function readableMessage(message: QueueMessage): QueueMessage {
  const body = readQueueBody(message.body);
  if (body === message.body) return message;
  return {
    id: message.id,
    timestamp: message.timestamp,
    attempts: message.attempts,
    body,
    ack: () => message.ack(),
    retry: (options) => message.retry(options),
  };
}
