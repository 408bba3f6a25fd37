import { MemoryRateLimiter } from "../auth/memory-rate-limiter.ts";
import type { RateLimiter } from "../auth/rate-limiter.ts";
import type { PublishReceipt } from "../brokers/publisher.ts";
import {
  type BeginItem,
  type BeginManyResult,
  type BeginOptions,
  type BeginResult,
  DEDUP_WINDOW_SECONDS,
  type DedupStore,
  type DeliveryRecord,
  type FinishItem,
} from "./dedup-store.ts";

interface Entry {
  destinations: string[];
  delivered: Record<string, PublishReceipt>;
  complete: boolean;
  firstSeenAt: string;
  expiresAt: number;
}

export interface MemoryDedupOptions {
  /** Most records kept; past it the oldest are dropped (their events could be published again). */
  readonly maxRecords?: number;
  /** How often expired records and leases are swept away. */
  readonly sweepEveryMs?: number;
  /** Takes admissions (rate limits); a `MemoryRateLimiter` on the same clock by default. */
  readonly rateLimiter?: RateLimiter;
}

/**
 * Dedup in isolate memory — for local development and tests without Redis. NOT shared: another
 * isolate (or a restarted one) does not see these records, so duplicates are only caught
 * within one isolate. The producer logs a warning when it runs on this store, and outside
 * development refuses to publish on it at all (`readiness.ts`).
 *
 * Memory stays bounded: expired records and leases are swept (at most once a minute, on `beginMany`),
 * and at most `maxRecords` are kept, the oldest dropped first.
 */
export class MemoryDedupStore implements DedupStore {
  readonly shared = false;
  readonly #entries = new Map<string, Entry>();
  readonly #leases = new Map<string, { holder: string; expiresAt: number }>();
  readonly #maxRecords: number;
  readonly #sweepEveryMs: number;
  readonly #rateLimiter: RateLimiter;
  #lastSweep: number;

  constructor(
    private readonly now: () => number = Date.now,
    options: MemoryDedupOptions = {},
  ) {
    this.#maxRecords = options.maxRecords ?? 100_000;
    this.#sweepEveryMs = options.sweepEveryMs ?? 60_000;
    this.#rateLimiter = options.rateLimiter ?? new MemoryRateLimiter(now);
    this.#lastSweep = now();
  }

  /** Records and leases held right now (expired ones not yet swept included). */
  size(): { records: number; leases: number } {
    return { records: this.#entries.size, leases: this.#leases.size };
  }

  #sweep(): void {
    const now = this.now();
    if (now - this.#lastSweep < this.#sweepEveryMs) return;
    this.#lastSweep = now;
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    for (const [key, lease] of this.#leases) if (lease.expiresAt <= now) this.#leases.delete(key);
  }

  /** Drops the oldest records (Map order is insertion order) beyond `maxRecords`. */
  #bound(): void {
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxRecords) return;
      this.#entries.delete(key);
      this.#leases.delete(key);
    }
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAt <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #snapshot(entry: Entry): DeliveryRecord {
    return {
      destinations: [...entry.destinations],
      delivered: { ...entry.delivered },
      complete: entry.complete,
      firstSeenAt: entry.firstSeenAt,
    };
  }

  async get(key: string): Promise<DeliveryRecord | null> {
    const entry = this.#live(key);
    return entry === undefined ? null : this.#snapshot(entry);
  }

  async beginMany(items: readonly BeginItem[], options: BeginOptions): Promise<BeginManyResult> {
    const { admission } = options;
    const decision =
      admission === undefined
        ? undefined
        : await this.#rateLimiter.take(admission.keyId, admission.limit, admission.cost);
    if (decision !== undefined && !decision.allowed) return { admitted: false, decision };
    this.#sweep();
    const results = items.map((item) => this.#begin(item, options));
    return decision === undefined ? { admitted: true, results } : { admitted: true, decision, results };
  }

  async finishMany(items: readonly FinishItem[]): Promise<void> {
    for (const item of items) this.#finish(item);
  }

  #begin({ key, holder, plan }: BeginItem, options: BeginOptions): BeginResult {
    let entry = this.#live(key);
    if (entry?.complete) return { kind: "complete", record: this.#snapshot(entry) };
    const lease = this.#leases.get(key);
    if (lease !== undefined && lease.expiresAt > this.now()) return { kind: "busy" };
    this.#leases.set(key, { holder, expiresAt: this.now() + options.leaseMs });
    const created = entry === undefined;
    if (entry === undefined) {
      entry = {
        destinations: [...plan],
        delivered: {},
        complete: false,
        firstSeenAt: options.firstSeenAt,
        expiresAt: this.now() + DEDUP_WINDOW_SECONDS * 1000,
      };
      this.#entries.set(key, entry);
      this.#bound();
    }
    return { kind: "owned", record: this.#snapshot(entry), created };
  }

  #finish({ key, holder, delivered, complete }: FinishItem): void {
    const entry = this.#live(key);
    if (entry !== undefined) {
      Object.assign(entry.delivered, delivered);
      if (complete) entry.complete = true;
    }
    if (this.#leases.get(key)?.holder === holder) this.#leases.delete(key);
  }
}
