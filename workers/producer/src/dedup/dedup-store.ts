import type { RateLimit } from "../auth/api-key-config.ts";
import type { RateLimitDecision } from "../auth/rate-limiter.ts";
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

/** One event to begin: its duplicate key, the caller's lease token and the destinations to record. */
export interface BeginItem {
  readonly key: string;
  readonly holder: string;
  /** Destinations to record if the key is new. */
  readonly plan: readonly string[];
}

/** Rate-limit units to take for the request before anything is begun (sliding window per key). */
export interface Admission {
  /** The API key's id. */
  readonly keyId: string;
  readonly limit: RateLimit;
  /** Events the request carries (a batch of 20 costs 20, invalid ones included). */
  readonly cost: number;
}

export interface BeginOptions {
  readonly firstSeenAt: string;
  /** How long the holder may publish before another request may take over. */
  readonly leaseMs: number;
  /** Taken atomically before the begins; when it does not fit, nothing is begun. */
  readonly admission?: Admission;
}

/** Outcome of `begin` for one event. */
export type BeginResult =
  /** Already delivered everywhere: nothing to publish, no lease taken. */
  | { readonly kind: "complete"; readonly record: DeliveryRecord }
  /** Another request holds the lease right now. */
  | { readonly kind: "busy" }
  /** The caller holds the lease; `created` is true when this call recorded the key. */
  | { readonly kind: "owned"; readonly record: DeliveryRecord; readonly created: boolean };

/** Outcome of `beginMany`: refused by the rate limit (nothing begun), or one result per item. */
export type BeginManyResult =
  | { readonly admitted: false; readonly decision: RateLimitDecision }
  | {
      readonly admitted: true;
      /** The rate-limit decision, when an admission was asked for. */
      readonly decision?: RateLimitDecision;
      readonly results: readonly BeginResult[];
    };

/** What one request learnt for one event, recorded after publishing. */
export interface FinishItem {
  readonly key: string;
  readonly holder: string;
  /** Receipts of the destinations that acknowledged in this request. */
  readonly delivered: Readonly<Record<string, PublishReceipt>>;
  /** Every destination of the record has now acknowledged. */
  readonly complete: boolean;
}

/**
 * Storage for producer-side deduplication with per-destination progress, and the request's rate
 * limit with it: a whole request — one event or a batch of any size — costs two calls
 * (`beginMany` before publishing, with the rate limit taken first in the same step; `finishMany`
 * after). For Redis each call is one round trip.
 *
 * Guarantees every implementation keeps:
 * - `beginMany` is atomic: if an `admission` is given and its cost does not fit the key's sliding
 *   window, nothing is taken or begun (`admitted: false`); otherwise the cost is taken and, per
 *   item, it returns `complete` for a finished key, or takes the lease for exactly one holder at a
 *   time (others get `busy` until `finish` by that holder or `leaseMs` elapses) and, for a new key,
 *   records it with `plan` BEFORE anything is published;
 * - a record lives `DEDUP_WINDOW_SECONDS` from creation; `finishMany` never extends or shortens it
 *   and never recreates an expired record;
 * - `finishMany` adds the given receipts, marks a record complete when asked, and releases a
 *   lease only if `holder` still owns it;
 * - failures reject with `EdgebusError("upstream_unavailable")`.
 *
 * `shared` is false for stores that only see one isolate's traffic (local development).
 */
export interface DedupStore {
  readonly shared: boolean;
  get(key: string): Promise<DeliveryRecord | null>;
  beginMany(items: readonly BeginItem[], options: BeginOptions): Promise<BeginManyResult>;
  finishMany(items: readonly FinishItem[]): Promise<void>;
}
