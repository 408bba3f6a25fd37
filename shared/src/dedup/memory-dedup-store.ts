import type { PublishReceipt } from "../brokers/publisher.ts";
import { DEDUP_WINDOW_SECONDS, type DedupStore, type DeliveryRecord } from "./dedup-store.ts";

interface Entry {
  destinations: string[];
  delivered: Record<string, PublishReceipt>;
  complete: boolean;
  firstSeenAt: string;
  expiresAt: number;
}

/**
 * Dedup in isolate memory — for local development and tests without Redis. NOT shared: another
 * isolate (or a restarted one) does not see these records, so duplicates are only caught
 * within one isolate. The producer logs a warning when it runs on this store.
 */
export class MemoryDedupStore implements DedupStore {
  readonly shared = false;
  readonly #entries = new Map<string, Entry>();
  readonly #leases = new Map<string, { holder: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAt <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  async get(key: string): Promise<DeliveryRecord | null> {
    const entry = this.#live(key);
    if (entry === undefined) return null;
    return {
      destinations: [...entry.destinations],
      delivered: { ...entry.delivered },
      complete: entry.complete,
      firstSeenAt: entry.firstSeenAt,
    };
  }

  async create(key: string, destinations: readonly string[], firstSeenAt: string): Promise<boolean> {
    if (this.#live(key) !== undefined) return false;
    this.#entries.set(key, {
      destinations: [...destinations],
      delivered: {},
      complete: false,
      firstSeenAt,
      expiresAt: this.now() + DEDUP_WINDOW_SECONDS * 1000,
    });
    return true;
  }

  async markDelivered(key: string, destination: string, receipt: PublishReceipt): Promise<void> {
    const entry = this.#live(key);
    if (entry !== undefined) entry.delivered[destination] = receipt;
  }

  async markComplete(key: string): Promise<void> {
    const entry = this.#live(key);
    if (entry !== undefined) entry.complete = true;
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const lease = this.#leases.get(key);
    if (lease !== undefined && lease.expiresAt > this.now()) return false;
    this.#leases.set(key, { holder, expiresAt: this.now() + ttlMs });
    return true;
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    if (this.#leases.get(key)?.holder === holder) this.#leases.delete(key);
  }
}
