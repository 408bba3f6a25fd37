import { EdgebusError } from "#shared/errors.ts";
import { publisherClosedError } from "./publish-guard.ts";
import type { OutgoingMessage, Publisher, PublishReceipt } from "./publisher.ts";

/** A message as the memory publisher stored it, with its position. */
export interface StoredMessage extends OutgoingMessage {
  readonly destination: string;
  readonly offset: number;
}

/**
 * A `Publisher` that keeps messages in memory, for tests of code that publishes. It keeps the
 * same guarantees as the real adapters (checked by the shared contract suite): one receipt per
 * message in order (partition 0, offsets counting from 0 per destination), all-or-nothing per
 * call, rejection after `close()`.
 *
 * Failures can be scheduled to simulate broker outages and partial fan-out failures:
 * `failNext(n)` fails the next `n` publish calls, `failDestination(name)` fails every publish
 * to one destination until `heal(name)`.
 *
 * With `maxMessageBytes` it refuses, like the broker it stands in for, a call holding a message
 * whose key, value and headers together exceed that many UTF-8 bytes (`payload_too_large`, not
 * retryable, nothing stored). Without it there is no limit.
 */
export interface MemoryPublisherOptions {
  /** Largest message accepted, in UTF-8 bytes of key + value + header names and values. */
  readonly maxMessageBytes?: number;
}

export class MemoryPublisher implements Publisher {
  readonly #stored = new Map<string, StoredMessage[]>();
  readonly #failingDestinations = new Map<string, EdgebusError>();
  #failuresLeft = 0;
  #failureToThrow: EdgebusError | undefined;
  #closed = false;
  readonly #maxMessageBytes: number | undefined;
  /** Number of publish calls that reached the "broker" (non-empty batches, failed ones included). */
  calls = 0;

  constructor(options: MemoryPublisherOptions = {}) {
    const limit = options.maxMessageBytes;
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new EdgebusError("internal", `maxMessageBytes must be a positive integer, got ${limit}`, {
        retryable: false,
      });
    }
    this.#maxMessageBytes = limit;
  }

  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<PublishReceipt[]> {
    if (this.#closed) throw publisherClosedError("memory");
    if (messages.length === 0) return [];
    this.calls += 1;
    if (this.#maxMessageBytes !== undefined) this.#checkSizes(destination, messages, this.#maxMessageBytes);
    const destinationFailure = this.#failingDestinations.get(destination);
    if (destinationFailure) throw destinationFailure;
    if (this.#failuresLeft > 0) {
      this.#failuresLeft -= 1;
      throw this.#failureToThrow ?? outage(destination);
    }
    const stored = this.#stored.get(destination) ?? [];
    this.#stored.set(destination, stored);
    return messages.map((message) => {
      const offset = stored.length;
      stored.push({ ...message, destination, offset });
      return { destination, partition: 0, offset };
    });
  }

  #checkSizes(destination: string, messages: readonly OutgoingMessage[], limit: number): void {
    const encoder = new TextEncoder();
    const size = (text: string | undefined) => (text === undefined ? 0 : encoder.encode(text).byteLength);
    for (const message of messages) {
      const headers = Object.entries(message.headers ?? {}).reduce((sum, [k, v]) => sum + size(k) + size(v), 0);
      const bytes = size(message.key) + size(message.value) + headers;
      if (bytes > limit) {
        throw new EdgebusError(
          "payload_too_large",
          `message ${message.id} is ${bytes} bytes; ${destination} accepts at most ${limit} bytes`,
          { retryable: false, details: { destination, id: message.id, bytes } },
        );
      }
    }
  }

  /** Fails the next `count` publish calls (to any destination) with `error` or a retryable outage. */
  failNext(count: number, error?: EdgebusError): void {
    this.#failuresLeft = count;
    this.#failureToThrow = error;
  }

  /** Fails every publish to `destination` until `heal(destination)`. */
  failDestination(destination: string, error: EdgebusError = outage(destination)): void {
    this.#failingDestinations.set(destination, error);
  }

  heal(destination: string): void {
    this.#failingDestinations.delete(destination);
  }

  /** What was accepted for `destination`, in order. */
  messages(destination: string): readonly StoredMessage[] {
    return this.#stored.get(destination) ?? [];
  }

  destinations(): string[] {
    return [...this.#stored.keys()];
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

function outage(destination: string): EdgebusError {
  return new EdgebusError("upstream_unavailable", `memory destination ${destination} is unavailable (simulated)`, {
    retryable: true,
  });
}
