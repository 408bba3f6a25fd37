import type { OutgoingMessage } from "#shared/envelope/outgoing-message.ts";
import type { EdgebusError } from "#shared/errors.ts";

export type { OutgoingMessage };

/** Where a destination put a message. `partition`/`offset` are null for brokers without them. */
export interface PublishReceipt {
  readonly destination: string;
  readonly partition: number | null;
  readonly offset: number | null;
}

/**
 * A destination for messages (a Cloudflare Queue, a Kafka topic through the Upstash Kafka REST
 * protocol, memory in tests).
 *
 * Guarantees every implementation must keep (checked by the shared contract suite):
 * - `publish` resolves only after the destination durably accepted every message, and returns
 *   one receipt per message in input order;
 * - on failure it rejects with an `EdgebusError` (`upstream_unavailable` and `retryable: true`
 *   when trying again can help; `payload_too_large` for a message over the broker's size limit)
 *   and the caller must treat the whole batch as not delivered and retry it. Adapters split big
 *   batches into several broker requests, so earlier parts may already be stored: at-least-once,
 *   a retry may duplicate, never lose;
 * - an empty batch resolves to `[]` without I/O;
 * - `close()` releases resources and may be called twice; publishing after close rejects.
 *
 * Adapters: `queue-publisher.ts`, `upstash-kafka-publisher.ts`, `memory-publisher.ts` (tests);
 * all pass `runPublisherContract` in test/contract.
 */
export interface Publisher {
  publish(destination: string, messages: readonly OutgoingMessage[]): Promise<PublishReceipt[]>;
  close(): Promise<void>;
}

export type PublishError = EdgebusError;
