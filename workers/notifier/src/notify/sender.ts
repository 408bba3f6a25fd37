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
 * - it never logs or returns credentials.
 */
export interface Sender<C extends Channel = Channel> {
  readonly channel: C;
  /** Provider name recorded with each send (`sendgrid`, `twilio`, `webhook`). */
  readonly provider: string;
  send(notification: Extract<Notification, { channel: C }>): Promise<SendReceipt>;
}
