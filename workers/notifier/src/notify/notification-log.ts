import type { Channel } from "./notification.ts";

/**
 * How long a `sending` reservation protects a send in progress. Longer than any provider call
 * (senders time out after 10 s), so only a crashed attempt's reservation ever expires.
 */
export const SEND_LEASE_SECONDS = 60;

/** The identity and context of one send, as recorded in `edgebus.notifications`. */
export interface SendRecord {
  readonly idempotencyKey: string;
  readonly eventSource: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly channel: Channel;
  /** Address on the channel; `""` for a skipped send that had none. */
  readonly recipient: string;
  readonly template: string;
  readonly locale: string;
  readonly provider: string | null;
}

/**
 * - `send`: this caller holds the send and must call the provider, then `markSent`/`markFailed`;
 * - `done`: it was sent (or recorded as skipped) before: do nothing;
 * - `busy`: another delivery of the same event is sending it right now: try again later.
 */
export type Reservation = { readonly state: "send"; readonly attempt: number } | { readonly state: "done" | "busy" };

/**
 * The send ledger (`edgebus.notifications`), which makes sends effectively-once on top of an
 * at-least-once queue.
 *
 * Guarantees:
 * - `reserve` is atomic per idempotency key: of concurrent callers at most one gets `send`;
 * - a key marked `sent` or `skipped` never yields `send` again;
 * - a `sending` reservation older than the lease (a crash between call and mark) and a `failed`
 *   one yield `send` again, and the provider call repeats with the same idempotency key;
 * - failures reject with a retryable `EdgebusError`.
 */
export interface NotificationLog {
  reserve(record: SendRecord): Promise<Reservation>;
  markSent(idempotencyKey: string, providerMessageId: string): Promise<void>;
  markFailed(idempotencyKey: string, error: { code: string; message: string }): Promise<void>;
  /** Records a send that could not happen (no address): reason such as `no_email_address`. */
  recordSkipped(record: SendRecord, reason: string): Promise<void>;
}
