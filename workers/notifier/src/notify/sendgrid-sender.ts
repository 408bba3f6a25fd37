import { EdgebusError } from "#shared/errors.ts";
import type { EmailNotification, SendReceipt } from "./notification.ts";
import { fetchProvider, providerError } from "./provider-error.ts";
import type { LookupResult, Sender } from "./sender.ts";

export interface SendGridOptions {
  /** API origin, e.g. `https://api.sendgrid.com` or the local provider's URL. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly from: { readonly email: string; readonly name?: string };
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  /**
   * The account has SendGrid's Email Activity add-on (and the key its scope): unknown outcomes are
   * settled by asking it (`lookup`). Without it the sender has no lookup.
   */
  readonly emailActivity?: boolean;
}

/**
 * Email through the SendGrid v3 Mail Send API (`POST /v3/mail/send`, Bearer API key, JSON body;
 * 202 with the message id in `X-Message-Id`).
 *
 * SendGrid has no request idempotency of its own; the key travels in `custom_args` (echoed in
 * SendGrid's event webhook, so a duplicate can be traced) and the notifier's send record is
 * what prevents a second send.
 */
export class SendGridSender implements Sender<"email"> {
  readonly channel = "email";
  readonly provider = "sendgrid";
  readonly #url: string;
  readonly #options: SendGridOptions;
  readonly lookup?: (notification: EmailNotification, since: Date) => Promise<LookupResult>;

  constructor(options: SendGridOptions) {
    this.#url = new URL("/v3/mail/send", options.baseUrl).toString();
    this.#options = options;
    if (options.emailActivity) this.lookup = (notification) => this.#findInEmailActivity(notification);
  }

  async #findInEmailActivity(notification: EmailNotification): Promise<LookupResult> {
    const { apiKey, baseUrl, timeoutMs = 10_000, fetch: fetcher = fetch } = this.#options;
    const url = new URL("/v3/messages", baseUrl);
    // The key is `ntf_` and hex digits: nothing to escape inside the quotes.
    url.searchParams.set("query", `unique_args['idempotency_key']="${notification.idempotencyKey}"`);
    url.searchParams.set("limit", "10");
    const response = await fetchProvider(
      "sendgrid",
      fetcher,
      url.toString(),
      { headers: { authorization: `Bearer ${apiKey}`, accept: "application/json" } },
      timeoutMs,
    );
    if (!response.ok) throw await providerError("sendgrid", response);
    const body = (await response.json().catch(() => null)) as { messages?: unknown } | null;
    if (!Array.isArray(body?.messages)) {
      throw new EdgebusError("upstream_unavailable", "sendgrid Email Activity answered without a messages list", {
        retryable: true,
        details: { provider: "sendgrid", status: response.status },
      });
    }
    const match = (body.messages as { msg_id?: unknown }[]).find((message) => typeof message.msg_id === "string");
    return match ? { found: true, providerMessageId: match.msg_id as string } : { found: false };
  }

  async send(notification: EmailNotification): Promise<SendReceipt> {
    const { apiKey, from, timeoutMs = 10_000, fetch: fetcher = fetch } = this.#options;
    const response = await fetchProvider(
      "sendgrid",
      fetcher,
      this.#url,
      {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(mailSendBody(notification, from)),
      },
      timeoutMs,
    );
    if (response.status !== 202 && !response.ok) throw await providerError("sendgrid", response);
    await response.body?.cancel();
    const messageId = response.headers.get("x-message-id");
    if (!messageId) {
      // Accepted but unidentifiable: retrying would send twice, so this is not retryable.
      throw new EdgebusError("upstream_unavailable", "sendgrid accepted the mail without an X-Message-Id", {
        retryable: false,
        details: { provider: "sendgrid", status: response.status },
      });
    }
    return { providerMessageId: messageId, status: response.status };
  }
}

/**
 * SendGrid documents that recipient names may not contain commas or semicolons: it accepts such a
 * request and then drops the mail (it splits the name as an address list). Replace them.
 */
export function recipientForSendGrid(to: EmailNotification["to"]): EmailNotification["to"] {
  if (to.name === undefined) return { email: to.email };
  const name = to.name.replace(/[,;]+/g, " ").replace(/\s+/g, " ").trim();
  return name ? { email: to.email, name } : { email: to.email };
}

/** The Mail Send JSON body. `text/plain` must precede `text/html` (SendGrid rejects the reverse). */
export function mailSendBody(notification: EmailNotification, from: SendGridOptions["from"]) {
  return {
    personalizations: [{ to: [recipientForSendGrid(notification.to)] }],
    from,
    subject: notification.subject,
    content: [
      { type: "text/plain", value: notification.text },
      { type: "text/html", value: notification.html },
    ],
    custom_args: { idempotency_key: notification.idempotencyKey },
    ...(notification.priority === "high" || notification.priority === "low"
      ? { headers: PRIORITY_HEADERS[notification.priority] }
      : {}),
  };
}

/** How mail clients are told a message's priority (`Importance`, RFC 2156; `X-Priority`, 1 = highest). */
const PRIORITY_HEADERS = {
  high: { Importance: "high", "X-Priority": "1" },
  low: { Importance: "low", "X-Priority": "5" },
} as const;
