import type { PublishReceipt } from "../brokers/publisher.ts";

/** How long a `source`+`id` is remembered: a retry within this window is a duplicate. */
export const DEDUP_WINDOW_SECONDS = 24 * 60 * 60;

/** What is known about one event (`source` + `id`). */
export interface DeliveryRecord {
  /** Destinations chosen when the event was first recorded (`queue:<name>`, `kafka:<topic>`). */
  readonly destinations: readonly string[];
  /** Receipts of the destinations that acknowledged, by destination. */
  readonly delivered: Readonly<Record<string, PublishReceipt>>;
  /** Every destination acknowledged. */
  readonly complete: boolean;
  /** When the event was first recorded (ISO 8601). */
  readonly firstSeenAt: string;
}

export interface BeginOptions {
  /** Destinations to record if the key is new. */
  readonly plan: readonly string[];
  readonly firstSeenAt: string;
  /** How long the holder may publish before another request may take over. */
  readonly leaseMs: number;
}

/** Outcome of `begin`. */
export type BeginResult =
  /** Already delivered everywhere: nothing to publish, no lease taken. */
  | { readonly kind: "complete"; readonly record: DeliveryRecord }
  /** Another request holds the lease right now. */
  | { readonly kind: "busy" }
  /** The caller holds the lease; `created` is true when this call recorded the key. */
  | { readonly kind: "owned"; readonly record: DeliveryRecord; readonly created: boolean };

/**
 * Storage for producer-side deduplication with per-destination progress, in two round trips
 * per event (`begin` before publishing, `finish` after).
 *
 * Guarantees every implementation keeps:
 * - `begin` is atomic: it returns `complete` for a finished key, otherwise takes the lease for
 *   exactly one holder at a time (others get `busy` until `finish` by that holder or `leaseMs`
 *   elapses) and, for a new key, records it with `plan` BEFORE anything is published;
 * - a record lives `DEDUP_WINDOW_SECONDS` from creation; `finish` never extends or shortens it
 *   and never recreates an expired record;
 * - `finish` adds the given receipts, marks the record complete when asked, and releases the
 *   lease only if `holder` still owns it;
 * - failures reject with `EdgebusError("upstream_unavailable")`.
 *
 * `shared` is false for stores that only see one isolate's traffic (local development).
 */
export interface DedupStore {
  readonly shared: boolean;
  get(key: string): Promise<DeliveryRecord | null>;
  begin(key: string, holder: string, options: BeginOptions): Promise<BeginResult>;
  finish(
    key: string,
    holder: string,
    delivered: Readonly<Record<string, PublishReceipt>>,
    complete: boolean,
  ): Promise<void>;
}
