import type { Channel, Notification, SendReceipt } from "./notification.ts";

/**
 * One notification channel speaking one provider's HTTP API with `fetch`.
 *
 * Guarantees every implementation keeps:
 * - `send` resolves only when the provider accepted the message (its 2xx), with the provider's
 *   message id;
 * - it passes `notification.idempotencyKey` to the provider in the provider's own way, so a
 *   repeated call after a lost response is safe where the provider deduplicates;
 * - on failure it rejects with an `EdgebusError`: `retryable: true` for 408, 429, 5xx and network
 *   errors (with `retryAfterSeconds` when the provider said when), `retryable: false` for any
 *   other 4xx (the same request cannot succeed: dead-letter it);
 * - when no answer came (a timeout, a dropped connection) the provider may have accepted the
 *   message: the error says so (`isUnknownOutcome`), and the send must not be repeated blindly;
 * - `lookup`, where the provider has one, tells whether it holds a record of the notification
 *   (sent at or after `since`), so an unknown outcome can be settled without a second message;
 * - it never logs or returns credentials.
 */
export interface Sender<C extends Channel = Channel> {
  readonly channel: C;
  /** Provider name recorded with each send (`sendgrid`, `twilio`, `webhook`). */
  readonly provider: string;
  send(notification: Extract<Notification, { channel: C }>): Promise<SendReceipt>;
  /** Absent when the deployment has no way to ask the provider (SendGrid without Email Activity). */
  readonly lookup?: (notification: Extract<Notification, { channel: C }>, since: Date) => Promise<LookupResult>;
}

/** What a provider's records say about a notification whose outcome was unknown. */
export type LookupResult = { readonly found: true; readonly providerMessageId: string } | { readonly found: false };
