import type { KafkaConnection } from "../kafka/connection.ts";
import { ConsumerInstance, type ConsumerInstanceSettings } from "./consumer-instance.ts";

export interface ConsumerRegistryOptions {
  /** Instances unused for this long are closed (Upstash: "closed after some idle time"). */
  readonly idleTimeoutMs: number;
  /** Upper bound on live instances in this process; each one is a Kafka group member. */
  readonly maxInstances: number;
}

/**
 * The live consumer instances of this bridge process, keyed by (group, instance).
 * Instances are process-local state: run one bridge per consumer group, or route a group's
 * calls to the same bridge, as Upstash did.
 */
export class ConsumerRegistry {
  readonly #connection: KafkaConnection;
  readonly #options: ConsumerRegistryOptions;
  readonly #instances = new Map<string, ConsumerInstance>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(connection: KafkaConnection, options: ConsumerRegistryOptions) {
    this.#connection = connection;
    this.#options = options;
    this.#sweeper = setInterval(() => void this.#closeIdle(), Math.min(options.idleTimeoutMs, 10_000));
    this.#sweeper.unref();
  }

  get(group: string, instance: string): ConsumerInstance | undefined {
    return this.#instances.get(keyOf(group, instance));
  }

  /** The existing instance, or a new one with `settings` (which only matter at creation). */
  obtain(group: string, instance: string, settings: ConsumerInstanceSettings): ConsumerInstance | undefined {
    const key = keyOf(group, instance);
    let found = this.#instances.get(key);
    if (!found) {
      if (this.#instances.size >= this.#options.maxInstances) return undefined;
      found = new ConsumerInstance(this.#connection, group, instance, settings);
      this.#instances.set(key, found);
    }
    return found;
  }

  list(): ConsumerInstance[] {
    return [...this.#instances.values()];
  }

  /** Closes and forgets an instance; false when there is none. */
  async remove(group: string, instance: string): Promise<boolean> {
    const key = keyOf(group, instance);
    const found = this.#instances.get(key);
    if (!found) return false;
    this.#instances.delete(key);
    await found.close();
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    const all = [...this.#instances.values()];
    this.#instances.clear();
    await Promise.allSettled(all.map((i) => i.close()));
  }

  async #closeIdle(): Promise<void> {
    const cutoff = Date.now() - this.#options.idleTimeoutMs;
    for (const [key, instance] of this.#instances) {
      if (instance.lastUsedAt < cutoff) {
        this.#instances.delete(key);
        await instance.close().catch(() => undefined);
      }
    }
  }
}

function keyOf(group: string, instance: string): string {
  return `${group}\u0000${instance}`;
}
