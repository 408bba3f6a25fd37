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

/**
 * Storage for producer-side deduplication with per-destination progress.
 *
 * Guarantees every implementation keeps:
 * - `create` is recorded before anything is published and returns false if the key exists;
 *   a record lives `DEDUP_WINDOW_SECONDS` from creation;
 * - `markDelivered`/`markComplete` never shorten or extend that window;
 * - `acquireLease` succeeds for exactly one holder at a time until `releaseLease` by that holder
 *   or `ttlMs` elapses, so two concurrent requests with the same key never both publish;
 * - failures reject with `EdgebusError("upstream_unavailable")`.
 *
 * `shared` is false for stores that only see one isolate's traffic (local development).
 */
export interface DedupStore {
  readonly shared: boolean;
  get(key: string): Promise<DeliveryRecord | null>;
  create(key: string, destinations: readonly string[], firstSeenAt: string): Promise<boolean>;
  markDelivered(key: string, destination: string, receipt: PublishReceipt): Promise<void>;
  markComplete(key: string): Promise<void>;
  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(key: string, holder: string): Promise<void>;
}
