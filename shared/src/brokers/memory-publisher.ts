import { EdgebusError } from "../errors.ts";
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
 */
export class MemoryPublisher implements Publisher {
  readonly #stored = new Map<string, StoredMessage[]>();
  readonly #failingDestinations = new Map<string, EdgebusError>();
  #failuresLeft = 0;
  #failureToThrow: EdgebusError | undefined;
  #closed = false;
  /** Number of publish calls that reached the "broker" (non-empty batches, failed ones included). */
  calls = 0;

  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<PublishReceipt[]> {
    if (this.#closed) throw publisherClosedError("memory");
    if (messages.length === 0) return [];
    this.calls += 1;
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
