import { EdgebusError } from "#shared/errors.ts";
import type { SendReceipt, SmsNotification } from "./notification.ts";
import { fetchProvider, providerError } from "./provider-error.ts";
import type { Sender } from "./sender.ts";

export interface TwilioOptions {
  /** API origin, e.g. `https://api.twilio.com` or the local provider's URL. */
  readonly baseUrl: string;
  readonly accountSid: string;
  readonly authToken: string;
  /** Sender: an E.164 number, or a Messaging Service SID (`MG…`) which Twilio takes instead of `From`. */
  readonly from: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/**
 * SMS through Twilio's Programmable Messaging API
 * (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, Basic auth AccountSid:AuthToken,
 * form-encoded `To`/`From`|`MessagingServiceSid`/`Body`; 201 with the message `sid`).
 * The idempotency key goes in `I-Twilio-Idempotency-Token` (the header Twilio itself uses for
 * idempotency on its webhooks). Twilio does not promise to deduplicate API requests on it, so
 * the notifier's send record is what prevents a second SMS; the header lets a duplicate be traced.
 */
export class TwilioSender implements Sender<"sms"> {
  readonly channel = "sms";
  readonly provider = "twilio";
  readonly #url: string;
  readonly #authorization: string;
  readonly #options: TwilioOptions;

  constructor(options: TwilioOptions) {
    this.#url = new URL(
      `/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`,
      options.baseUrl,
    ).toString();
    this.#authorization = `Basic ${btoa(`${options.accountSid}:${options.authToken}`)}`;
    this.#options = options;
  }

  async send(notification: SmsNotification): Promise<SendReceipt> {
    const { from, timeoutMs = 10_000, fetch: fetcher = fetch } = this.#options;
    const form = new URLSearchParams({ To: notification.to, Body: notification.body });
    if (from.startsWith("MG")) form.set("MessagingServiceSid", from);
    else form.set("From", from);
    const response = await fetchProvider(
      "twilio",
      fetcher,
      this.#url,
      {
        method: "POST",
        headers: {
          authorization: this.#authorization,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          "i-twilio-idempotency-token": notification.idempotencyKey,
        },
        body: form.toString(),
      },
      timeoutMs,
    );
    if (!response.ok) throw await providerError("twilio", response);
    const body = (await response.json().catch(() => null)) as { sid?: unknown } | null;
    if (typeof body?.sid !== "string") {
      throw new EdgebusError("upstream_unavailable", "twilio accepted the message without a sid", {
        retryable: false,
        details: { provider: "twilio", status: response.status },
      });
    }
    return { providerMessageId: body.sid, status: response.status };
  }
}
