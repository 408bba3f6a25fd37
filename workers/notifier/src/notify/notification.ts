/**
 * What the notifier hands to a channel: one fully rendered message for one recipient. Rendering
 * and recipient resolution are done before this point, so senders only speak their provider's API.
 */

export type Channel = "email" | "sms" | "webhook";

export const CHANNELS: readonly Channel[] = ["email", "sms", "webhook"];

interface NotificationBase {
  /**
   * Stable for one (event, channel, recipient): providers that support it deduplicate on it, and
   * it is the primary key of the send record in `edgebus.notifications`.
   */
  readonly idempotencyKey: string;
}

export interface EmailNotification extends NotificationBase {
  readonly channel: "email";
  readonly to: { readonly email: string; readonly name?: string };
  readonly subject: string;
  readonly text: string;
  /** Already HTML-escaped where it interpolates data. */
  readonly html: string;
}

export interface SmsNotification extends NotificationBase {
  readonly channel: "sms";
  /** E.164 phone number. */
  readonly to: string;
  readonly body: string;
}

export interface WebhookNotification extends NotificationBase {
  readonly channel: "webhook";
  /** Endpoint URL; the recipient of a webhook. */
  readonly to: string;
  /** Event type in the Standard Webhooks payload (`{type, timestamp, data}`). */
  readonly type: string;
  readonly timestamp: string;
  readonly data: unknown;
}

export type Notification = EmailNotification | SmsNotification | WebhookNotification;

/** The address a notification goes to, as stored in the send record. */
export function recipientOf(notification: Notification): string {
  return notification.channel === "email" ? notification.to.email : notification.to;
}

/** What the provider said when it accepted a message. */
export interface SendReceipt {
  /** The provider's id for the message (SendGrid `X-Message-Id`, Twilio `sid`, the `webhook-id`). */
  readonly providerMessageId: string;
  readonly status: number;
}
