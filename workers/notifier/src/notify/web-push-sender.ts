import { EdgebusError } from "#shared/errors.ts";
import type { PushNotification, SendReceipt } from "./notification.ts";
import { fetchProvider, providerError } from "./provider-error.ts";
import type { Sender } from "./sender.ts";
import { type VapidKeys, vapidAuthorization } from "./vapid.ts";
import { decodeBase64Url, encryptPushMessage } from "./web-push-encryption.ts";

export interface WebPushSenderOptions {
  readonly vapid: VapidKeys;
  /** Seconds a push service keeps a message for a device that is offline (RFC 8030 `TTL`). */
  readonly ttlSeconds?: number;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** RFC 8030 §5.3 `Urgency` for each priority. */
const URGENCY = { low: "low", normal: "normal", high: "high" } as const;

/**
 * Web Push (RFC 8030) to the push service in the subscription's endpoint: the payload encrypted
 * to the subscription's keys (RFC 8291, `aes128gcm`), the server identified with VAPID (RFC 8292).
 *
 * - `201 Created` is acceptance; the message's `Location` is its provider id;
 * - `Topic` carries the idempotency key (truncated to the 32 base64url characters RFC 8030
 *   allows): a push service replaces an undelivered message with the same topic, so a resend
 *   after an unknown outcome does not stack a second copy on an offline device;
 * - `404`/`410`: the subscription expired or was revoked; the error says so (`isGoneSubscription`)
 *   and the notifier deletes the subscription;
 * - other failures map like every provider's (`providerError`).
 */
export class WebPushSender implements Sender<"push"> {
  readonly channel = "push";
  readonly provider = "webpush";
  readonly #options: WebPushSenderOptions;

  constructor(options: WebPushSenderOptions) {
    this.#options = options;
  }

  async send(notification: PushNotification): Promise<SendReceipt> {
    const { vapid, ttlSeconds = 86_400, timeoutMs = 10_000, fetch: fetcher = fetch } = this.#options;
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = await encryptPushMessage(new TextEncoder().encode(JSON.stringify(notification.payload)), {
        p256dh: decodeBase64Url(notification.keys.p256dh),
        auth: decodeBase64Url(notification.keys.auth),
      });
    } catch (cause) {
      // Bad stored keys or a payload over 3993 octets: the same message can never be encrypted.
      throw new EdgebusError("bad_request", `push payload cannot be encrypted: ${(cause as Error).message}`, {
        cause,
        retryable: false,
        details: { provider: "webpush" },
      });
    }
    const response = await fetchProvider(
      "webpush",
      fetcher,
      notification.to,
      {
        method: "POST",
        headers: {
          authorization: await vapidAuthorization(notification.to, vapid),
          "content-encoding": "aes128gcm",
          "content-type": "application/octet-stream",
          ttl: String(ttlSeconds),
          urgency: URGENCY[notification.priority],
          topic: notification.idempotencyKey.replace(/^ntf_/, "").slice(0, 32),
        },
        body,
      },
      timeoutMs,
    );
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel();
      throw new EdgebusError("not_found", `push subscription is gone (${response.status})`, {
        retryable: false,
        details: { provider: "webpush", status: response.status, gone: true },
      });
    }
    if (!response.ok) throw await providerError("webpush", response);
    await response.body?.cancel();
    return {
      providerMessageId: response.headers.get("location") ?? notification.idempotencyKey,
      status: response.status,
    };
  }
}

/** The push service said the subscription no longer exists (404 or 410): delete it, do not retry. */
export function isGoneSubscription(error: unknown): boolean {
  return (
    error instanceof EdgebusError &&
    typeof error.details === "object" &&
    error.details !== null &&
    (error.details as { gone?: unknown }).gone === true
  );
}
