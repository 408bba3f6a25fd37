import { EdgebusError } from "#shared/errors.ts";
import type { SendReceipt, SmsNotification } from "./notification.ts";
import { fetchProvider, providerError } from "./provider-error.ts";
import type { LookupResult, Sender } from "./sender.ts";

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
 *
 * `lookup`: the Messages list, `GET …/Messages.json?To=…&DateSent>=…`, matched on the recipient
 * and the exact body. A message appears there once Twilio has sent it (`date_sent`), so the
 * lookup waits out that lag (the notifier's visibility window).
 */
export class TwilioSender implements Sender<"sms"> {
  readonly channel = "sms";
  readonly provider = "twilio";
  readonly #url: string;
  readonly #authorization: string;
  readonly #options: TwilioOptions;
  readonly lookup = (notification: SmsNotification, since: Date): Promise<LookupResult> =>
    this.#findInMessages(notification, since);

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

  async #findInMessages(notification: SmsNotification, since: Date): Promise<LookupResult> {
    const { timeoutMs = 10_000, fetch: fetcher = fetch } = this.#options;
    // The attempt began up to a provider timeout before `since`; an hour of margin, and the
    // date filter reaches back to the day before so a send around midnight is not missed.
    const earliest = since.getTime() - LOOKUP_MARGIN_MS;
    const url = new URL(this.#url);
    url.searchParams.set("To", notification.to);
    url.searchParams.set("DateSent>", new Date(earliest - 86_400_000).toISOString().slice(0, 10));
    url.searchParams.set("PageSize", "100");
    const response = await fetchProvider(
      "twilio",
      fetcher,
      url.toString(),
      { headers: { authorization: this.#authorization, accept: "application/json" } },
      timeoutMs,
    );
    if (!response.ok) throw await providerError("twilio", response);
    const body = (await response.json().catch(() => null)) as { messages?: unknown } | null;
    if (!Array.isArray(body?.messages)) {
      throw new EdgebusError("upstream_unavailable", "twilio answered the message list without messages", {
        retryable: true,
        details: { provider: "twilio", status: response.status },
      });
    }
    const match = (body.messages as { sid?: unknown; to?: unknown; body?: unknown; date_created?: unknown }[]).find(
      (message) => {
        if (typeof message.sid !== "string" || message.to !== notification.to || message.body !== notification.body) {
          return false;
        }
        const created = typeof message.date_created === "string" ? Date.parse(message.date_created) : Number.NaN;
        return Number.isNaN(created) || created >= earliest;
      },
    );
    return match ? { found: true, providerMessageId: match.sid as string } : { found: false };
  }
}

/** How far before `since` a looked-up message may have been created. */
const LOOKUP_MARGIN_MS = 3_600_000;
