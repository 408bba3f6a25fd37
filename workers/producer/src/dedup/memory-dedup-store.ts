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

/** What every record begun by one `beginMany` call shares: one object per call, not per record. */
interface Origin {
  readonly firstSeenAt: string;
  readonly expiresAt: number;
}

/**
 * One record, kept small: the store may hold 100,000 of them, and the collector walks all of them
 * on every full collection. `destinations` and `delivered` are frozen and replaced rather than
 * changed, so snapshots share them; records with the same plan share one `destinations` array
 * and, once every destination answered with an empty queue receipt, one `delivered` object.
 */
interface Entry {
  readonly destinations: readonly string[];
  delivered: Readonly<Record<string, PublishReceipt>>;
  complete: boolean;
  readonly origin: Origin;
  /**
   * Who is delivering the event now, until when. It lives on the record rather than in a map of
   * its own: a lease only exists beside its record (`#begin` creates both), and a second map of
   * up to 100,000 keys cost five more hash lookups per event.
   */
  lease: Lease | undefined;
}

interface Lease {
  readonly holder: string;
  readonly expiresAt: number;
}

const NOTHING_DELIVERED: Readonly<Record<string, PublishReceipt>> = Object.freeze({});

/** Distinct plans kept as shared arrays; past this, a record keeps its own frozen copy. */
const MAX_SHARED_PLANS = 1024;

function isEmptyReceipt(receipt: PublishReceipt | undefined): receipt is PublishReceipt {
  return receipt !== undefined && receipt.partition === null && receipt.offset === null;
}

/**
 * How many receipts `receipts` holds when each is an empty receipt for a destination of `settled`
 * with the same destination name; -1 as soon as one is not.
 */
function matchingReceipts(
  settled: Readonly<Record<string, PublishReceipt>>,
  receipts: Readonly<Record<string, PublishReceipt>>,
): number {
  let count = 0;
  for (const destination in receipts) {
    if (!Object.hasOwn(receipts, destination)) continue;
    const receipt = receipts[destination];
    const expected = Object.hasOwn(settled, destination) ? settled[destination] : undefined;
    if (expected === undefined || !isEmptyReceipt(receipt) || receipt.destination !== expected.destination) return -1;
    count += 1;
  }
  return count;
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
  readonly #maxRecords: number;
  readonly #sweepEveryMs: number;
  readonly #rateLimiter: RateLimiter;
  #lastSweep: number;
  /**
   * Walks `#entries` in insertion order for `#bound`; every key before it has been dropped. A
   * fresh `keys()` per eviction would step over every deleted slot from the start of the table
   * again (V8 leaves them until the table is rebuilt): tens of µs per new record once the store
   * is full, where a live iterator resumes where it stopped.
   */
  #oldest: MapIterator<string> | undefined;
  /** Shared plans (frozen), by their last destination; `#plansShared` counts them. */
  readonly #plans = new Map<string, (readonly string[])[]>();
  #plansShared = 0;
  /** Per shared plan: the `delivered` of a record whose every destination has an empty receipt. */
  readonly #settled = new Map<readonly string[], Readonly<Record<string, PublishReceipt>>>();

  private readonly now: () => number;

  constructor(now: () => number = Date.now, options: MemoryDedupOptions = {}) {
    this.now = now;
    this.#maxRecords = options.maxRecords ?? 100_000;
    this.#sweepEveryMs = options.sweepEveryMs ?? 60_000;
    this.#rateLimiter = options.rateLimiter ?? new MemoryRateLimiter(now);
    this.#lastSweep = now();
  }

  /** Records and leases held right now (expired ones not yet swept included); walks every record. */
  size(): { records: number; leases: number } {
    let leases = 0;
    for (const entry of this.#entries.values()) if (entry.lease !== undefined) leases += 1;
    return { records: this.#entries.size, leases };
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#sweepEveryMs) return;
    this.#lastSweep = now;
    for (const [key, entry] of this.#entries) {
      if (entry.origin.expiresAt <= now) this.#entries.delete(key);
      else if (entry.lease !== undefined && entry.lease.expiresAt <= now) entry.lease = undefined;
    }
  }

  /** Drops the oldest records (Map order is insertion order) beyond `maxRecords`. */
  #bound(): void {
    while (this.#entries.size > this.#maxRecords) {
      this.#oldest ??= this.#entries.keys();
      const next = this.#oldest.next();
      if (next.done === true) {
        // Cannot happen while records remain past it (all before it were dropped); start again.
        this.#oldest = undefined;
        continue;
      }
      this.#entries.delete(next.value);
    }
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.origin.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Shares the frozen arrays and objects of `entry`: they are never changed in place. */
  #snapshot(entry: Entry): DeliveryRecord {
    return {
      destinations: entry.destinations,
      delivered: entry.delivered,
      complete: entry.complete,
      firstSeenAt: entry.origin.firstSeenAt,
    };
  }

  /** `plan` as a frozen array, the same one for every record with that plan (up to `MAX_SHARED_PLANS`). */
  #sharedPlan(plan: readonly string[]): readonly string[] {
    const last = plan.length === 0 ? "" : (plan[plan.length - 1] as string);
    const candidates = this.#plans.get(last);
    if (candidates !== undefined) {
      for (const candidate of candidates) {
        if (candidate.length !== plan.length) continue;
        let same = true;
        for (let i = 0; i < plan.length - 1 && same; i++) same = candidate[i] === plan[i];
        if (same) return candidate;
      }
    }
    const copy = Object.freeze([...plan]);
    if (this.#plansShared >= MAX_SHARED_PLANS) return copy;
    this.#plansShared += 1;
    if (candidates === undefined) this.#plans.set(last, [copy]);
    else candidates.push(copy);
    return copy;
  }

  /**
   * `entry.delivered` with `delivered` added, frozen. When every destination of a shared plan has
   * an empty receipt (a queue's: no partition, no offset) and nothing else is recorded, that is
   * one object per plan instead of one per record.
   */
  #merged(entry: Entry, delivered: Readonly<Record<string, PublishReceipt>>): Readonly<Record<string, PublishReceipt>> {
    const previous = entry.delivered;
    let added = false;
    for (const destination in delivered) {
      if (Object.hasOwn(delivered, destination)) {
        added = true;
        break;
      }
    }
    if (!added) return previous;
    const settled = this.#settled.get(entry.destinations);
    if (settled !== undefined && this.#matches(settled, entry.destinations, previous, delivered)) return settled;
    const merged = Object.freeze({ ...previous, ...delivered });
    if (settled === undefined && this.#isSettled(entry.destinations, merged)) {
      const shared: Record<string, PublishReceipt> = {};
      for (const destination of entry.destinations) {
        const { destination: name } = merged[destination] as PublishReceipt;
        shared[destination] = Object.freeze({ destination: name, partition: null, offset: null });
      }
      this.#settled.set(entry.destinations, Object.freeze(shared));
      return shared;
    }
    return merged;
  }

  /** True when `destinations` is a shared plan and `delivered` holds an empty receipt for each and nothing else. */
  #isSettled(destinations: readonly string[], delivered: Readonly<Record<string, PublishReceipt>>): boolean {
    const candidates = this.#plans.get(destinations.length === 0 ? "" : (destinations.at(-1) as string));
    if (candidates?.includes(destinations) !== true) return false;
    let count = 0;
    for (const destination in delivered) {
      if (!Object.hasOwn(delivered, destination)) continue;
      count += 1;
      if (!destinations.includes(destination) || !isEmptyReceipt(delivered[destination])) return false;
    }
    return count === destinations.length;
  }

  /**
   * True when `previous` and `added` together hold exactly what `settled` holds, receipt for
   * receipt. Runs for every finished event: no closures, and the common case (nothing delivered
   * before) needs no second pass, since `settled` has one key per destination and nothing else.
   */
  #matches(
    settled: Readonly<Record<string, PublishReceipt>>,
    destinations: readonly string[],
    previous: Readonly<Record<string, PublishReceipt>>,
    added: Readonly<Record<string, PublishReceipt>>,
  ): boolean {
    const addedCount = matchingReceipts(settled, added);
    if (addedCount < 0) return false;
    if (previous === NOTHING_DELIVERED) return addedCount === destinations.length;
    if (matchingReceipts(settled, previous) < 0) return false;
    for (const destination of destinations) {
      if (!Object.hasOwn(added, destination) && !Object.hasOwn(previous, destination)) return false;
    }
    return true;
  }

  async get(key: string): Promise<DeliveryRecord | null> {
    const entry = this.#live(key, this.now());
    return entry === undefined ? null : this.#snapshot(entry);
  }

  async beginMany(items: readonly BeginItem[], options: BeginOptions): Promise<BeginManyResult> {
    const { admission } = options;
    const decision =
      admission === undefined
        ? undefined
        : await this.#rateLimiter.take(admission.keyId, admission.limit, admission.cost);
    if (decision !== undefined && !decision.allowed) return { admitted: false, decision };
    const now = this.now();
    this.#sweep(now);
    const origin: Origin = { firstSeenAt: options.firstSeenAt, expiresAt: now + DEDUP_WINDOW_SECONDS * 1000 };
    // One lease object per holder and call (a request's events share their holder).
    let lease: Lease | undefined;
    const results = items.map((item) => {
      if (lease?.holder !== item.holder) lease = { holder: item.holder, expiresAt: now + options.leaseMs };
      return this.#begin(item, now, origin, lease);
    });
    return decision === undefined ? { admitted: true, results } : { admitted: true, decision, results };
  }

  async finishMany(items: readonly FinishItem[]): Promise<void> {
    const now = this.now();
    for (const item of items) this.#finish(item, now);
  }

  #begin({ key, plan }: BeginItem, now: number, origin: Origin, lease: Lease): BeginResult {
    let entry = this.#entries.get(key);
    const held = entry?.lease;
    // A lease outlives its record only if it was taken in the record's last seconds; it still holds.
    if (held !== undefined && held.expiresAt > now) {
      return entry?.complete === true && entry.origin.expiresAt > now
        ? { kind: "complete", record: this.#snapshot(entry) }
        : { kind: "busy" };
    }
    if (entry !== undefined && entry.origin.expiresAt <= now) {
      this.#entries.delete(key);
      entry = undefined;
    }
    if (entry?.complete) return { kind: "complete", record: this.#snapshot(entry) };
    const created = entry === undefined;
    if (entry === undefined) {
      entry = { destinations: this.#sharedPlan(plan), delivered: NOTHING_DELIVERED, complete: false, origin, lease };
      this.#entries.set(key, entry);
      this.#bound();
    } else {
      entry.lease = lease;
    }
    return { kind: "owned", record: this.#snapshot(entry), created };
  }

  #finish({ key, holder, delivered, complete }: FinishItem, now: number): void {
    const entry = this.#live(key, now);
    if (entry === undefined) return;
    entry.delivered = this.#merged(entry, delivered);
    if (complete) entry.complete = true;
    if (entry.lease?.holder === holder) entry.lease = undefined;
  }
}
