/**
 * The parts of a Cloudflare Queues `Message` the consumer machinery needs. Structural, so a
 * workerd `Message`, the vitest-plugin's `createMessageBatch` messages and plain test doubles
 * all fit, and the machinery stays runtime-neutral.
 */
export interface QueueMessage<Body = unknown> {
  readonly id: string;
  readonly timestamp: Date;
  readonly body: Body;
  /** 1 on first delivery, +1 per redelivery. */
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

export interface QueueBatch<Body = unknown> {
  readonly queue: string;
  readonly messages: readonly QueueMessage<Body>[];
}

/** What a handler sees: the message's data without the ability to ack or retry it. */
export interface ConsumerMessage<Body = unknown> {
  readonly id: string;
  readonly queue: string;
  readonly timestamp: Date;
  readonly body: Body;
  readonly attempts: number;
}

export function toConsumerMessage<Body>(queue: string, message: QueueMessage<Body>): ConsumerMessage<Body> {
  return { id: message.id, queue, timestamp: message.timestamp, body: message.body, attempts: message.attempts };
}
