import { QUEUE_BODY_CONTENT_TYPE } from "#shared/envelope/queue-message.ts";
import { EdgebusError } from "#shared/errors.ts";
import { chunkBySize, publisherClosedError, utf8Bytes } from "./publish-guard.ts";
import type { OutgoingMessage, Publisher, PublishReceipt } from "./publisher.ts";

/** The part of a Cloudflare Queue producer binding this adapter uses (`env.NOTIFICATIONS`…). */
export interface QueueBinding {
  sendBatch(messages: Iterable<QueueSendRequest>): Promise<unknown>;
}

/** One message of a `sendBatch` call: an event's JSON text (`QUEUE_BODY_CONTENT_TYPE`). */
export interface QueueSendRequest {
  readonly body: string;
  readonly contentType: typeof QUEUE_BODY_CONTENT_TYPE;
}

/**
 * Cloudflare Queues limits (developers.cloudflare.com/queues/platform/limits, 1 KB = 1000 B):
 * a message is at most 128 KB including about 100 B of metadata, and one `sendBatch` carries at
 * most 100 messages and 256 KB.
 */
export const QUEUE_LIMITS = {
  maxMessageBytes: 128_000,
  metadataBytesPerMessage: 100,
  maxBatchMessages: 100,
  maxBatchBytes: 256_000,
} as const;

/**
 * Publishes to Cloudflare Queues through producer bindings; `destination` is the queue name
 * (`QUEUES` in names.ts) and `bindings` maps each name to its binding.
 *
 * Each message body is the message's value, the event's JSON text, sent as it is with content type
 * `text` (shared/src/envelope/queue-message.ts says why); consumers parse it once per delivery
 * and HTTP pull clients read it as plain UTF-8. A value that is not JSON is refused before
 * anything is sent, as a consumer could not read it. Batches are sent with
 * `sendBatch` in chunks within the limits above, one chunk after another; a failure rejects the
 * whole call (earlier chunks may have been accepted — the caller retries, consumers dedupe).
 * Receipts have `partition`/`offset` null: queues have neither.
 */
export class QueuePublisher implements Publisher {
  readonly #bindings: ReadonlyMap<string, QueueBinding>;
  #closed = false;

  constructor(bindings: Readonly<Record<string, QueueBinding>>) {
    this.#bindings = new Map(Object.entries(bindings));
  }

  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<PublishReceipt[]> {
    if (this.#closed) throw publisherClosedError("queue");
    if (messages.length === 0) return [];
    const binding = this.#bindings.get(destination);
    if (!binding) {
      throw new EdgebusError("internal", `no queue binding for destination "${destination}"`, {
        retryable: false,
        details: { destination, bound: [...this.#bindings.keys()] },
      });
    }
    // Every message is checked and sized before anything is sent.
    const sizes: number[] = new Array(messages.length);
    const requests = messages.map((message, index) => {
      const { request, bytes } = toQueueRequest(destination, message);
      sizes[index] = bytes + QUEUE_LIMITS.metadataBytesPerMessage;
      return request;
    });
    const chunks = chunkBySize(requests, (_request, index) => sizes[index] as number, {
      maxCount: QUEUE_LIMITS.maxBatchMessages,
      maxBytes: QUEUE_LIMITS.maxBatchBytes,
    });
    for (const chunk of chunks) {
      try {
        await binding.sendBatch(chunk);
      } catch (error) {
        throw mapQueueError(destination, error);
      }
    }
    // Queue receipts carry nothing per message: one object for the whole call (receipts are
    // only read), not one per message kept alive in every dedup record.
    const receipt: PublishReceipt = Object.freeze({ destination, partition: null, offset: null });
    return messages.map(() => receipt);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/**
 * A message whose send request and byte count the caller built once for all the queues it goes
 * to (`publish-event.ts` sends one such message per event to every queue): the request's body is
 * the message's value, whose JSON the caller vouches for, so a queue send neither parses nor
 * counts it again.
 */
export interface QueueMessage extends OutgoingMessage {
  /** `utf8Bytes(value)`. */
  readonly bytes: number;
  /** `{ body: value, contentType: QUEUE_BODY_CONTENT_TYPE }`. */
  readonly request: QueueSendRequest;
}

function isPrepared(message: OutgoingMessage): message is QueueMessage {
  const request = (message as Partial<QueueMessage>).request;
  return request !== undefined && request.body === message.value && typeof (message as QueueMessage).bytes === "number";
}

/** The send request of `message` (the caller's, when it built one) and the bytes its body counts. */
function toQueueRequest(destination: string, message: OutgoingMessage): { request: QueueSendRequest; bytes: number } {
  let request: QueueSendRequest;
  let bytes: number;
  if (isPrepared(message)) {
    request = message.request;
    bytes = message.bytes;
  } else {
    try {
      JSON.parse(message.value);
    } catch (cause) {
      throw new EdgebusError("internal", `message ${message.id} for queue ${destination} is not JSON`, {
        retryable: false,
        cause,
      });
    }
    request = { body: message.value, contentType: QUEUE_BODY_CONTENT_TYPE };
    bytes = utf8Bytes(message.value);
  }
  if (bytes + QUEUE_LIMITS.metadataBytesPerMessage > QUEUE_LIMITS.maxMessageBytes) {
    throw new EdgebusError(
      "payload_too_large",
      `message ${message.id} is ${bytes} bytes; a queue message may be at most ${
        QUEUE_LIMITS.maxMessageBytes - QUEUE_LIMITS.metadataBytesPerMessage
      } bytes`,
      { details: { destination, id: message.id, bytes } },
    );
  }
  return { request, bytes };
}

/**
 * Queues report throttling and a full backlog with these texts (docs "limits"); both pass with
 * time, as do network failures. A size rejection cannot pass with a retry.
 */
function mapQueueError(destination: string, error: unknown): EdgebusError {
  const text = error instanceof Error ? error.message : String(error);
  if (/exceeds|too large|size limit/i.test(text) && !/Storage Limit Exceeded/i.test(text)) {
    return new EdgebusError("payload_too_large", `queue ${destination} rejected the batch: ${text}`, {
      cause: error,
      details: { destination },
    });
  }
  const reason = /Too Many Requests/i.test(text)
    ? "throttled (Too Many Requests)"
    : /Storage Limit Exceeded/i.test(text)
      ? "backlog full (Storage Limit Exceeded)"
      : "unavailable";
  return new EdgebusError("upstream_unavailable", `queue ${destination} is ${reason}: ${text}`, {
    retryable: true,
    cause: error,
    details: { destination },
  });
}
