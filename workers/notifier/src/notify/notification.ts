/**
 * What the notifier hands to a channel: one fully rendered message for one recipient. Rendering
 * and recipient resolution are done before this point, so senders only speak their provider's API.
 */

export type Channel = "email" | "sms" | "webhook" | "push";

export const CHANNELS: readonly Channel[] = ["email", "sms", "webhook", "push"];

/** A queued notification's `priority` (`gov.notification.*.queued`); notification rules send `normal`. */
export type Priority = "low" | "normal" | "high";

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
  /** `high` / `low` become the `Importance` and `X-Priority` headers; absent or `normal`: none. */
  readonly priority?: Priority;
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

/** A Web Push message to one of a citizen's push subscriptions (RFC 8030, encrypted per RFC 8291). */
export interface PushNotification extends NotificationBase {
  readonly channel: "push";
  /** The subscription's endpoint URL at its push service. */
  readonly to: string;
  /** The subscription's keys, base64url: the browser's P-256 public key and the 16-octet auth secret. */
  readonly keys: { readonly p256dh: string; readonly auth: string };
  /** What the citizen app's service worker receives (JSON), encrypted to `keys`. */
  readonly payload: PushPayload;
  /** Becomes the push `Urgency` header (`low`, `normal`, `high`). */
  readonly priority: Priority;
}

/** The decrypted push message: what the service worker shows with `showNotification`. */
export interface PushPayload {
  readonly title: string;
  readonly body: string;
  /** In-app path to open when the notification is clicked; null: the app's start page. */
  readonly url: string | null;
  readonly notification_id: string;
  readonly locale: string;
  readonly priority: Priority;
}

export type Notification = EmailNotification | SmsNotification | WebhookNotification | PushNotification;

/** The address a notification goes to, as stored in the send record. */
export function recipientOf(notification: Notification): string {
  return notification.channel === "email" ? notification.to.email : notification.to;
}

/** What the provider said when it accepted a message. */
export interface SendReceipt {
  /** The provider's id for the message (SendGrid `X-Message-Id`, Twilio `sid`, the `webhook-id`, the push message's `Location`). */
  readonly providerMessageId: string;
  readonly status: number;
}
