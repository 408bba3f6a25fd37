import type { SendReceipt, WebhookNotification } from "./notification.ts";
import { fetchProvider, providerError } from "./provider-error.ts";
import type { Sender } from "./sender.ts";
import { decodeWebhookSecret, signWebhook } from "./standard-webhooks.ts";

export interface WebhookSenderOptions {
  /** `whsec_<base64>` signing secret shared with the receiver. */
  readonly secret: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** Clock in milliseconds; injectable so signatures can be checked against fixed vectors. */
  readonly now?: () => number;
}

/**
 * Webhook deliveries signed per Standard Webhooks. The payload is the spec's recommended
 * `{type, timestamp, data}`; `webhook-id` is the idempotency key, which the spec tells receivers
 * to deduplicate on, so redelivering the same notification is safe.
 */
export class WebhookSender implements Sender<"webhook"> {
  readonly channel = "webhook";
  readonly provider = "webhook";
  readonly #options: WebhookSenderOptions;
  /** The secret's key bytes, decoded at the first send (the notifier builds its senders per batch). */
  #key: Uint8Array | undefined;

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
  }

  async send(notification: WebhookNotification): Promise<SendReceipt> {
    const { timeoutMs = 10_000, fetch: fetcher = fetch, now = Date.now } = this.#options;
    const body = JSON.stringify({
      type: notification.type,
      timestamp: notification.timestamp,
      data: notification.data,
    });
    // A secret that is not key material throws here, at every send alike, before anything is sent.
    this.#key ??= decodeWebhookSecret(this.#options.secret);
    const headers = signWebhook(this.#key, notification.idempotencyKey, now() / 1000, body);
    const response = await fetchProvider(
      "webhook",
      fetcher,
      notification.to,
      { method: "POST", headers: { ...headers, "content-type": "application/json" }, body },
      timeoutMs,
    );
    if (!response.ok) throw await providerError("webhook", response);
    await response.body?.cancel();
    return { providerMessageId: headers["webhook-id"], status: response.status };
  }
}
