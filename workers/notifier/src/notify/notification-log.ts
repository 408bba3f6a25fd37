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
 * - `send`: this caller holds the send and must call the provider, then `markSent`/`markFailed`/
 *   `markUnknown`;
 * - `reconcile`: this caller holds a send whose earlier attempt ended without an answer (at
 *   `since`): it must find out from the provider whether that attempt went through before sending
 *   again (`markSent` with `found`, or send and mark), or `markGivenUp`, or `releaseUnknown`;
 * - `wait`: an earlier attempt's outcome is unknown and the provider's records may not show it
 *   yet: try again in `retryAfterSeconds`;
 * - `done`: it was sent (or recorded as skipped, or given up) before: do nothing;
 * - `busy`: another delivery of the same event is sending it right now: try again later.
 */
export type Reservation =
  | { readonly state: "send"; readonly attempt: number }
  | { readonly state: "reconcile"; readonly attempt: number; readonly since: Date }
  | { readonly state: "wait" | "busy"; readonly retryAfterSeconds: number }
  | { readonly state: "done" };

/** How an unknown outcome was settled (`edgebus.notifications.reconciliation`). */
export type Reconciliation = "found" | "not_found" | "resent";

export interface ReserveOptions {
  /**
   * How long after an attempt without an answer the provider's records are expected to show it:
   * a `sending` row whose lease expired, or an `unknown` one, is reconciled only after that.
   */
  readonly visibilitySeconds: number;
}

/**
 * The send ledger (`edgebus.notifications`), which makes sends effectively-once on top of an
 * at-least-once queue.
 *
 * Guarantees:
 * - `reserve` is atomic per idempotency key: of concurrent callers at most one gets `send` or
 *   `reconcile`;
 * - a key marked `sent` or `skipped`, or an unknown outcome given up, never yields `send` again;
 * - a `failed` reservation (the provider answered with an error: nothing was sent) yields `send`
 *   again, and the provider call repeats with the same idempotency key;
 * - an attempt whose outcome is unknown — marked `unknown`, or a `sending` reservation older than
 *   the lease (a crash or a long database outage between call and mark) — yields `wait` until
 *   `visibilitySeconds` after it, then `reconcile`: never a blind `send`;
 * - failures reject with a retryable `EdgebusError`.
 */
export interface NotificationLog {
  reserve(record: SendRecord, options: ReserveOptions): Promise<Reservation>;
  markSent(idempotencyKey: string, providerMessageId: string, reconciliation?: Reconciliation): Promise<void>;
  markFailed(idempotencyKey: string, error: { code: string; message: string }): Promise<void>;
  /**
   * The call ended without an answer: the provider may have the message. Reconciled from
   * `visibilitySeconds` on.
   */
  markUnknown(
    idempotencyKey: string,
    error: { code: string; message: string },
    options: { readonly visibilitySeconds: number },
  ): Promise<void>;
  /** No way to find out and the policy is not to risk a second message: `unknown` for good. */
  markGivenUp(idempotencyKey: string): Promise<void>;
  /** A reconciliation could not ask the provider: back to `unknown`, reconcilable at once. */
  releaseUnknown(idempotencyKey: string, error: { code: string; message: string }): Promise<void>;
  /** Records a send that could not happen (no address): reason such as `no_email_address`. */
  recordSkipped(record: SendRecord, reason: string): Promise<void>;
  /**
   * Reserves the first attempt of many sends at once, before any of them is made (a batch's sends,
   * in one statement): each key it inserts is held by this log, and the `reserve` of a held key
   * answers `send` (attempt 1) without asking the ledger again. A key the ledger already has is
   * not held: its `reserve` decides as usual. A held key is handed out once. Optional: without
   * it every send is reserved by its own `reserve`.
   */
  reserveAhead?(records: readonly SendRecord[]): Promise<void>;
  /**
   * Gives back the keys reserved ahead and never handed out (their event stopped before sending
   * them): nothing was sent for them, so they are removed rather than left to expire as unknown
   * outcomes. Called when the batch is done.
   */
  releaseUnused?(): Promise<void>;
}
