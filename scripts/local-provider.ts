/**
 * The local notification provider: one HTTP server that speaks the three provider APIs the
 * notifier uses — SendGrid v3 Mail Send, Twilio Messages and a Standard Webhooks receiver — and
 * checks every request the way the real provider would (credentials, content type, required
 * fields, limits, webhook signatures). It records what it received, shows an inbox
 * (`GET /inbox` as JSON, `GET /` as a page), and can be told to fail (429 with `Retry-After`,
 * any 4xx/5xx) per route for the next N requests or for a time window, so the dev stack and the
 * tests exercise the notifier's real HTTP path including its error handling. It can also be slow
 * (accept a message at once but answer late, after the client gave up) or drop a request (hold it
 * without accepting it and never answer), the two ways a provider call ends with an unknown outcome.
 *
 * It is also a Web Push service (RFC 8030) playing the browser's part too, so the notifier's push
 * channel runs end to end with real cryptography:
 * - `POST /push/subscriptions` `{applicationServerKey?}` makes a subscription as a browser would
 *   (a fresh P-256 key pair and auth secret, kept here) and answers its `PushSubscription.toJSON()`
 *   (`endpoint`, `expirationTime`, `keys.p256dh`, `keys.auth`), to register with the producer;
 * - `POST /push/{id}` is the endpoint: it checks VAPID (RFC 8292: an ES256 JWT for this origin,
 *   `exp` within 24 h, signed by `k`, and `k` = the subscription's `applicationServerKey` when it
 *   was given: 401/403 otherwise), `TTL` and `Content-Encoding: aes128gcm`, decrypts the body with
 *   the subscription's private key (RFC 8291) and puts the plaintext in the inbox (route `push`,
 *   `payload` = the decrypted JSON); 201 with a `Location`;
 * - `DELETE /push/subscriptions/{id}` expires it: its endpoint answers 410 Gone from then on
 *   (unknown ids answer 404), as a push service does after the user revoked permission.
 *
 * It also answers the two lookups the notifier reconciles unknown outcomes with, showing only
 * messages accepted at least `lookup lag` seconds ago (a provider's records lag behind its API):
 * - Twilio: `GET /2010-04-01/Accounts/{Sid}/Messages.json?To=…&DateSent=…` (also `DateSent>` /
 *   `DateSent<`, on or after / before a date), Basic auth, Twilio's list format;
 * - SendGrid Email Activity: `GET /v3/messages?query=…&limit=…`, Bearer auth; the query is
 *   conditions joined by ` AND `: `unique_args['name']="value"` (a custom argument), `msg_id`,
 *   `to_email`, `from_email`, `subject`, `status` = "value".
 *
 * Control API (JSON):
 * - `POST /_control/failures` `{route: "sendgrid"|"twilio"|"webhook"|"push", status?, count?, for_seconds?,
 *   retry_after?, delay_ms?, drop?}`: with `status`, refuse (after `delay_ms` if given); with only
 *   `delay_ms`, accept at once and answer after `delay_ms`; with `drop: true`, hold the request
 *   without accepting it until the client gives up (at most `delay_ms`, default 60 s)
 * - `DELETE /_control/failures` — drop all injected failures
 * - `POST /_control/lookup-lag` `{seconds}` — how long an accepted message stays invisible to the
 *   lookups (default 0, or `LOCAL_PROVIDER_LOOKUP_LAG_SECONDS`)
 * - `POST /_control/reset` — empty the inbox and drop failures
 * - `GET /_control/stats` — counts per route since start (or reset), independent of the inbox
 *   size: accepted, refused, duplicates (accepted again under an accepted idempotency key) and
 *   the first duplicated keys; a long test run checks "nothing sent twice" with it
 *
 * Run: `tsx scripts/local-provider.ts` (port `LOCAL_PROVIDER_PORT`, default 8790; lookup lag
 * `LOCAL_PROVIDER_LOOKUP_LAG_SECONDS`, default 0; credentials from
 * `SENDGRID_API_KEY`, `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_FROM`, `WEBHOOK_SECRET`,
 * defaulting to `LOCAL_PROVIDER_CREDENTIALS`). Tests: `startLocalProvider({ port: 0 })`.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { smsLength, TWILIO_MAX_BODY_CHARS } from "../workers/notifier/src/notify/sms-length.ts";
import { verifyWebhook } from "../workers/notifier/src/notify/standard-webhooks.ts";
import { verifyVapid } from "../workers/notifier/src/notify/vapid.ts";
import {
  decodeBase64Url,
  decryptPushMessage,
  encodeBase64Url,
} from "../workers/notifier/src/notify/web-push-encryption.ts";

export type ProviderRoute = "sendgrid" | "twilio" | "webhook" | "push";

/** A subscription the push service made, with the browser's private half. */
interface PushServiceSubscription {
  readonly id: string;
  readonly p256dh: Uint8Array;
  readonly auth: Uint8Array;
  readonly privateScalar: Uint8Array;
  /** base64url public key the pushes must be signed with, when the subscriber named one. */
  readonly applicationServerKey: string | undefined;
  expired: boolean;
}

export interface LocalProviderCredentials {
  readonly sendgridApiKey: string;
  readonly twilioAccountSid: string;
  readonly twilioAuthToken: string;
  /** The sender number the Twilio account owns; `From` must be it (a Messaging Service SID is also accepted). */
  readonly twilioFrom: string;
  /** `whsec_<base64>` secret the webhook receiver verifies signatures with. */
  readonly webhookSecret: string;
}

/** Development credentials: not secrets, they only open this local server. */
export const LOCAL_PROVIDER_CREDENTIALS: LocalProviderCredentials = {
  sendgridApiKey: "SG.local-development-key",
  twilioAccountSid: `AC${"0".repeat(31)}1`,
  twilioAuthToken: "local-development-token",
  twilioFrom: "+15005550006",
  webhookSecret: "whsec_bG9jYWwtZGV2ZWxvcG1lbnQtd2ViaG9vay1zZWNyZXQ=",
};

/** One request the provider received, accepted or not. */
export interface ReceivedMessage {
  readonly seq: number;
  readonly route: ProviderRoute;
  readonly received_at: string;
  /** What the provider answered. */
  readonly status: number;
  readonly accepted: boolean;
  /** Why a request was refused (validation, credentials, injected failure). */
  readonly error?: string;
  /** SendGrid `X-Message-Id`, Twilio `sid`, the `webhook-id`. */
  readonly provider_message_id?: string;
  readonly idempotency_key?: string;
  /** True when an earlier accepted request carried the same idempotency key. */
  readonly duplicate: boolean;
  readonly to?: string[];
  readonly from?: string;
  readonly subject?: string;
  readonly text?: string;
  readonly html?: string;
  /** SMS segments as carriers would bill them. */
  readonly segments?: number;
  readonly webhook_path?: string;
  readonly payload?: unknown;
  /** Push: the request's `Urgency`, `TTL` and `Topic` headers. */
  readonly push_headers?: {
    readonly urgency: string | null;
    readonly ttl: string | null;
    readonly topic: string | null;
  };
}

/** What one route received since start or reset (`GET /_control/stats`). */
export interface RouteStats {
  accepted: number;
  refused: number;
  /** Accepted requests whose idempotency key had been accepted before. */
  duplicates: number;
  /** The first duplicated idempotency keys (at most 100). */
  duplicate_keys: string[];
}

export interface FailureRule {
  /** HTTP status to answer (400–599); absent with `delayMs` alone (slow) or `drop`. */
  readonly status?: number;
  /** Answer this many requests with the failure (default 1 unless `forSeconds` is given). */
  readonly count?: number;
  /** Answer every request for this many seconds. */
  readonly forSeconds?: number;
  /** `Retry-After` seconds for 429/503 answers. */
  readonly retryAfter?: number;
  /**
   * Milliseconds before answering. Without `status`: the message is accepted at once (it counts,
   * and the lookups find it) and the answer comes this late — after a client's timeout, an
   * accepted message whose outcome the client never learns.
   */
  readonly delayMs?: number;
  /** Hold the request without accepting it, never answering before the client gives up. */
  readonly drop?: boolean;
}

export interface LocalProvider {
  readonly url: string;
  readonly credentials: LocalProviderCredentials;
  close(): Promise<void>;
  received(): ReceivedMessage[];
  stats(): Record<ProviderRoute, RouteStats>;
  failNext(route: ProviderRoute, rule: FailureRule): void;
  /** Seconds an accepted message stays invisible to the lookups. */
  setLookupLag(seconds: number): void;
  reset(): void;
}

export interface LocalProviderOptions {
  /** 0 picks a free port. */
  readonly port?: number;
  readonly hostname?: string;
  readonly credentials?: Partial<LocalProviderCredentials>;
  /** Largest request body accepted (SendGrid's own limit is 30 MB; 1 MB is plenty locally). */
  readonly maxBodyBytes?: number;
  /** Inbox entries kept (oldest dropped first); the lookups search these. */
  readonly maxInbox?: number;
  /** Seconds an accepted message stays invisible to the lookups (default 0). */
  readonly lookupLagSeconds?: number;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

interface ActiveFailure {
  status: number | undefined;
  remaining: number | undefined;
  until: number | undefined;
  retryAfter: number | undefined;
  delayMs: number | undefined;
  drop: boolean;
}

/** How long a dropped request is held when the rule gives no `delay_ms`. */
const DEFAULT_DROP_HOLD_MS = 60_000;

const failureSchema = z
  .strictObject({
    route: z.enum(["sendgrid", "twilio", "webhook", "push"]),
    status: z.int().min(400).max(599).optional(),
    count: z.int().positive().max(10_000).optional(),
    for_seconds: z.number().positive().max(86_400).optional(),
    retry_after: z.int().min(0).max(86_400).optional(),
    delay_ms: z.int().positive().max(600_000).optional(),
    drop: z.boolean().optional(),
  })
  .refine((rule) => rule.status !== undefined || rule.drop === true || rule.delay_ms !== undefined, {
    message: "a rule needs status (fail), delay_ms (slow) or drop: true",
  })
  .refine((rule) => !(rule.drop === true && rule.status !== undefined), {
    message: "a dropped request gets no answer: drop and status exclude each other",
  });

const lookupLagSchema = z.strictObject({ seconds: z.number().min(0).max(86_400) });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits `ms` or until the client went away, whichever comes first. */
function hold(signal: AbortSignal | undefined, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Twilio's date format (RFC 2822), e.g. `Mon, 07 Dec 2026 10:15:00 +0000`. */
function twilioDate(iso: string): string {
  return new Date(iso).toUTCString().replace("GMT", "+0000");
}

/** One condition of an Email Activity query: `unique_args['name']="value"` or `field="value"`. */
type ActivityCondition =
  | { readonly customArg: string; readonly value: string }
  | { readonly field: string; readonly value: string };

const ACTIVITY_FIELDS = new Set(["msg_id", "to_email", "from_email", "subject", "status"]);

function parseActivityQuery(query: string): ActivityCondition[] | undefined {
  const conditions: ActivityCondition[] = [];
  for (const part of query.split(/\s+AND\s+/i)) {
    const trimmed = part.trim().replace(/^\((.*)\)$/, "$1");
    const custom = /^unique_args\['([^']+)'\]\s*=\s*"([^"]*)"$/.exec(trimmed);
    if (custom) {
      conditions.push({ customArg: custom[1] as string, value: custom[2] as string });
      continue;
    }
    const field = /^([a-z_]+)\s*=\s*"([^"]*)"$/.exec(trimmed);
    if (!field || !ACTIVITY_FIELDS.has(field[1] as string)) return undefined;
    conditions.push({ field: field[1] as string, value: field[2] as string });
  }
  return conditions.length > 0 ? conditions : undefined;
}

/** Builds the app; `startLocalProvider` serves it. */
function createLocalProvider(
  credentials: LocalProviderCredentials,
  maxBodyBytes: number,
  maxInbox: number,
  initialLookupLagSeconds: number,
) {
  const inbox: ReceivedMessage[] = [];
  let lookupLagSeconds = initialLookupLagSeconds;
  const setLookupLag = (seconds: number) => {
    lookupLagSeconds = seconds;
  };
  /** Accepted messages of a route old enough for the provider's own records to show them. */
  const visible = (route: ProviderRoute): ReceivedMessage[] => {
    const cutoff = Date.now() - lookupLagSeconds * 1000;
    return inbox.filter(
      (message) => message.route === route && message.accepted && Date.parse(message.received_at) <= cutoff,
    );
  };
  const failures: Record<ProviderRoute, ActiveFailure[]> = { sendgrid: [], twilio: [], webhook: [], push: [] };
  const pushSubscriptions = new Map<string, PushServiceSubscription>();
  const acceptedKeys = new Set<string>();
  const emptyStats = (): RouteStats => ({ accepted: 0, refused: 0, duplicates: 0, duplicate_keys: [] });
  let stats: Record<ProviderRoute, RouteStats> = {
    sendgrid: emptyStats(),
    twilio: emptyStats(),
    webhook: emptyStats(),
    push: emptyStats(),
  };
  let seq = 0;

  const record = (entry: Omit<ReceivedMessage, "seq" | "received_at" | "duplicate">): ReceivedMessage => {
    const key = entry.idempotency_key ? `${entry.route}:${entry.idempotency_key}` : undefined;
    const duplicate = entry.accepted && key !== undefined && acceptedKeys.has(key);
    if (entry.accepted && key) acceptedKeys.add(key);
    const counts = stats[entry.route];
    if (entry.accepted) counts.accepted += 1;
    else counts.refused += 1;
    if (duplicate) {
      counts.duplicates += 1;
      if (counts.duplicate_keys.length < 100) counts.duplicate_keys.push(entry.idempotency_key as string);
    }
    const message: ReceivedMessage = { seq: ++seq, received_at: new Date().toISOString(), duplicate, ...entry };
    inbox.push(message);
    // A dev server runs for days: keep the newest entries only.
    if (inbox.length > maxInbox) inbox.splice(0, inbox.length - maxInbox);
    return message;
  };

  /** The active injected failure for a route, consuming one use of a counted rule. */
  const takeFailure = (route: ProviderRoute): ActiveFailure | undefined => {
    const now = Date.now();
    const rules = failures[route];
    while (rules.length > 0) {
      const rule = rules[0] as ActiveFailure;
      const expired = (rule.until !== undefined && now > rule.until) || rule.remaining === 0;
      if (!expired) break;
      rules.shift();
    }
    const rule = rules[0];
    if (!rule) return undefined;
    if (rule.remaining !== undefined) rule.remaining -= 1;
    return rule;
  };

  const failNext = (route: ProviderRoute, rule: FailureRule) => {
    failures[route].push({
      status: rule.status,
      remaining: rule.count ?? (rule.forSeconds === undefined ? 1 : undefined),
      until: rule.forSeconds === undefined ? undefined : Date.now() + rule.forSeconds * 1000,
      retryAfter: rule.retryAfter,
      delayMs: rule.delayMs,
      drop: rule.drop === true,
    });
  };

  const reset = () => {
    inbox.length = 0;
    acceptedKeys.clear();
    stats = { sendgrid: emptyStats(), twilio: emptyStats(), webhook: emptyStats(), push: emptyStats() };
    for (const route of Object.keys(failures) as ProviderRoute[]) failures[route] = [];
  };

  const failureHeaders = (failure: ActiveFailure): Record<string, string> =>
    failure.retryAfter === undefined ? {} : { "retry-after": String(failure.retryAfter) };

  /**
   * What an injected rule does to one request: `refuse` (answer its status, after its delay),
   * `drop` (already held until the client left; record it and answer nothing useful), or `slow`
   * (handle the request normally, then answer `slowMs` late). Undefined: no rule.
   */
  const applyFailure = async (
    route: ProviderRoute,
    signal: AbortSignal | undefined,
  ): Promise<
    | { kind: "refuse"; failure: ActiveFailure & { status: number } }
    | { kind: "drop" }
    | { kind: "slow"; slowMs: number }
    | undefined
  > => {
    const failure = takeFailure(route);
    if (!failure) return undefined;
    if (failure.drop) {
      await hold(signal, failure.delayMs ?? DEFAULT_DROP_HOLD_MS);
      record({ route, status: 0, accepted: false, error: "dropped (failure injection): no answer" });
      return { kind: "drop" };
    }
    if (failure.status !== undefined) {
      if (failure.delayMs !== undefined) await sleep(failure.delayMs);
      return { kind: "refuse", failure: failure as ActiveFailure & { status: number } };
    }
    return { kind: "slow", slowMs: failure.delayMs ?? 0 };
  };
  /** The answer to a dropped request: the client is gone, nobody reads it. */
  const dropped = (c: Context) => c.body(null, 503);

  const app = new Hono();

  app.use(async (c, next) => {
    const length = Number(c.req.header("content-length") ?? 0);
    if (length > maxBodyBytes) return c.json({ error: `body larger than ${maxBodyBytes} bytes` }, 413);
    await next();
  });

  // ---- SendGrid v3 Mail Send -------------------------------------------------------------
  const sendgridError = (c: Context, status: number, message: string, field: string | null = null, headers = {}) => {
    record({ route: "sendgrid", status, accepted: false, error: field ? `${field}: ${message}` : message });
    return c.json({ errors: [{ message, field, help: null }] }, status as 400, headers);
  };

  app.post("/v3/mail/send", async (c) => {
    const authorization = c.req.header("authorization");
    if (!authorization) return sendgridError(c, 401, "Permission denied, wrong credentials");
    if (authorization !== `Bearer ${credentials.sendgridApiKey}`) {
      return sendgridError(c, 401, "The provided authorization grant is invalid, expired, or revoked");
    }
    const injected = await applyFailure("sendgrid", c.req.raw.signal);
    if (injected?.kind === "drop") return dropped(c);
    if (injected?.kind === "refuse") {
      const { failure } = injected;
      // SendGrid announces its rate-limit window in X-RateLimit-* headers (Reset = unix seconds).
      const rateLimit =
        failure.status === 429
          ? {
              "x-ratelimit-limit": "600",
              "x-ratelimit-remaining": "0",
              "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + (failure.retryAfter ?? 1)),
            }
          : {};
      const message = failure.status === 429 ? "too many requests" : "injected failure";
      return sendgridError(c, failure.status, message, null, { ...rateLimit, ...failureHeaders(failure) });
    }
    if (!c.req.header("content-type")?.toLowerCase().startsWith("application/json")) {
      return sendgridError(c, 415, "Content-Type should be application/json.");
    }
    let body: Record<string, unknown>;
    try {
      const parsed = JSON.parse(await c.req.text());
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      body = parsed as Record<string, unknown>;
    } catch {
      return sendgridError(c, 400, "Bad Request", null);
    }
    const problem = sendgridProblem(body);
    if (problem) return sendgridError(c, 400, problem.message, problem.field);

    const personalizations = body.personalizations as { to: { email: string }[] }[];
    const content = body.content as { type: string; value: string }[];
    const customArgs = (body.custom_args ?? {}) as Record<string, string>;
    const messageId = randomBytes(16).toString("base64url").slice(0, 22);
    record({
      route: "sendgrid",
      status: 202,
      accepted: true,
      provider_message_id: messageId,
      idempotency_key: customArgs.idempotency_key,
      to: personalizations.flatMap((p) => p.to.map((to) => to.email)),
      from: (body.from as { email: string }).email,
      subject: body.subject as string,
      text: content.find((part) => part.type === "text/plain")?.value,
      html: content.find((part) => part.type === "text/html")?.value,
      payload: body,
    });
    if (injected?.kind === "slow") await sleep(injected.slowMs);
    return c.body(null, 202, { "x-message-id": messageId });
  });

  // ---- Twilio Messages ---------------------------------------------------------------------
  const twilioError = (c: Context, status: number, code: number, message: string, headers = {}) => {
    record({ route: "twilio", status, accepted: false, error: `${code}: ${message}` });
    return c.json(
      { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
      status as 400,
      headers,
    );
  };

  const twilioAuthorized = (c: Context): boolean => {
    const [scheme, encoded] = (c.req.header("authorization") ?? "").split(" ");
    let decoded = "";
    try {
      decoded = scheme === "Basic" && encoded ? atob(encoded) : "";
    } catch {
      return false;
    }
    const [user, ...password] = decoded.split(":");
    return (
      user === credentials.twilioAccountSid &&
      password.join(":") === credentials.twilioAuthToken &&
      c.req.param("accountSid") === credentials.twilioAccountSid
    );
  };

  app.post("/2010-04-01/Accounts/:accountSid/Messages.json", async (c) => {
    const accountSid = c.req.param("accountSid");
    if (!twilioAuthorized(c)) return twilioError(c, 401, 20003, "Authenticate");
    const injected = await applyFailure("twilio", c.req.raw.signal);
    if (injected?.kind === "drop") return dropped(c);
    if (injected?.kind === "refuse") {
      const { failure } = injected;
      const code = failure.status === 429 ? 20429 : failure.status >= 500 ? 20500 : 21211;
      return twilioError(c, failure.status, code, "injected failure", failureHeaders(failure));
    }
    // Twilio reads form parameters only; a JSON body reads as no parameters at all.
    const isForm = c.req.header("content-type")?.toLowerCase().startsWith("application/x-www-form-urlencoded");
    const form = new URLSearchParams(isForm ? await c.req.text() : "");
    const to = form.get("To");
    const from = form.get("From");
    const service = form.get("MessagingServiceSid");
    const text = form.get("Body");
    if (!to) return twilioError(c, 400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return twilioError(c, 400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (!from && !service) return twilioError(c, 400, 21603, "A 'From' phone number is required.");
    if (from && from !== credentials.twilioFrom) {
      return twilioError(
        c,
        400,
        21606,
        `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
      );
    }
    if (service && !/^MG[0-9a-f]{32}$/.test(service)) {
      return twilioError(c, 400, 21701, `The Messaging Service Sid ${service} is invalid.`);
    }
    if (!text) return twilioError(c, 400, 21602, "Message body is required.");
    if (text.length > TWILIO_MAX_BODY_CHARS) {
      return twilioError(c, 400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    }
    const sid = `SM${randomBytes(16).toString("hex")}`;
    const now = new Date().toUTCString().replace("GMT", "+0000");
    const segments = smsLength(text).segments;
    record({
      route: "twilio",
      status: 201,
      accepted: true,
      provider_message_id: sid,
      idempotency_key: c.req.header("i-twilio-idempotency-token"),
      to: [to],
      from: from ?? service ?? undefined,
      text,
      segments,
    });
    if (injected?.kind === "slow") await sleep(injected.slowMs);
    return c.json(
      {
        account_sid: accountSid,
        api_version: "2010-04-01",
        body: text,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: "outbound-api",
        error_code: null,
        error_message: null,
        from: from ?? null,
        messaging_service_sid: service ?? null,
        num_media: "0",
        num_segments: String(segments),
        price: null,
        price_unit: "USD",
        sid,
        status: "queued",
        subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
        to,
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
      },
      201,
    );
  });

  // ---- Standard Webhooks receiver -----------------------------------------------------------
  app.post("/webhooks/*", async (c) => {
    const webhookPath = c.req.path;
    const refuse = (status: number, error: string, headers = {}) => {
      record({ route: "webhook", status, accepted: false, error, webhook_path: webhookPath });
      return c.json({ error }, status as 400, headers);
    };
    const body = await c.req.text();
    const verification = verifyWebhook(
      credentials.webhookSecret,
      {
        "webhook-id": c.req.header("webhook-id"),
        "webhook-timestamp": c.req.header("webhook-timestamp"),
        "webhook-signature": c.req.header("webhook-signature"),
      },
      body,
    );
    if (!verification.ok) return refuse(401, `signature verification failed: ${verification.reason}`);
    const injected = await applyFailure("webhook", c.req.raw.signal);
    if (injected?.kind === "drop") return dropped(c);
    if (injected?.kind === "refuse") {
      return refuse(injected.failure.status, "injected failure", failureHeaders(injected.failure));
    }
    if (!c.req.header("content-type")?.toLowerCase().startsWith("application/json")) {
      return refuse(415, "content-type must be application/json");
    }
    let payload: { type?: unknown; timestamp?: unknown; data?: unknown };
    try {
      payload = JSON.parse(body);
    } catch {
      return refuse(400, "body is not JSON");
    }
    if (typeof payload?.type !== "string" || typeof payload.timestamp !== "string" || payload.data === undefined) {
      return refuse(400, "payload must be {type, timestamp, data}");
    }
    const webhookId = c.req.header("webhook-id") as string;
    record({
      route: "webhook",
      status: 204,
      accepted: true,
      provider_message_id: webhookId,
      idempotency_key: webhookId,
      webhook_path: webhookPath,
      subject: payload.type,
      payload,
    });
    if (injected?.kind === "slow") await sleep(injected.slowMs);
    return c.body(null, 204);
  });

  // ---- Web Push service (and the browser's side of a subscription) ---------------------------
  app.post("/push/subscriptions", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { applicationServerKey?: unknown };
    const serverKey = typeof body?.applicationServerKey === "string" ? body.applicationServerKey : undefined;
    if (serverKey !== undefined) {
      try {
        if (decodeBase64Url(serverKey).length !== 65) throw new Error("length");
      } catch {
        return c.json({ error: "applicationServerKey must be a base64url 65-octet P-256 public key" }, 400);
      }
    }
    const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
      "deriveBits",
    ])) as CryptoKeyPair;
    const p256dh = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const subscription: PushServiceSubscription = {
      id: randomBytes(16).toString("base64url"),
      p256dh,
      auth: new Uint8Array(randomBytes(16)),
      privateScalar: decodeBase64Url(jwk.d as string),
      applicationServerKey: serverKey,
      expired: false,
    };
    pushSubscriptions.set(subscription.id, subscription);
    const origin = new URL(c.req.url).origin;
    return c.json(
      {
        endpoint: `${origin}/push/${subscription.id}`,
        expirationTime: null,
        keys: { p256dh: encodeBase64Url(subscription.p256dh), auth: encodeBase64Url(subscription.auth) },
      },
      201,
    );
  });
  app.delete("/push/subscriptions/:id", (c) => {
    const subscription = pushSubscriptions.get(c.req.param("id"));
    if (!subscription) return c.json({ error: "no such subscription" }, 404);
    subscription.expired = true;
    return c.body(null, 204);
  });
  app.post("/push/:id", async (c) => {
    const endpoint = new URL(c.req.url).pathname;
    const refuse = (status: number, error: string, headers = {}) => {
      record({ route: "push", status, accepted: false, error, to: [endpoint] });
      return c.json({ error }, status as 400, headers);
    };
    const subscription = pushSubscriptions.get(c.req.param("id"));
    if (!subscription) return refuse(404, "no such subscription");
    if (subscription.expired) return refuse(410, "subscription expired or unsubscribed");
    const vapid = await verifyVapid(c.req.header("authorization"), new URL(c.req.url).origin);
    if (!vapid.ok) return refuse(401, `VAPID: ${vapid.reason}`);
    if (subscription.applicationServerKey !== undefined && vapid.publicKey !== subscription.applicationServerKey) {
      return refuse(403, "VAPID key is not the applicationServerKey of this subscription");
    }
    const injected = await applyFailure("push", c.req.raw.signal);
    if (injected?.kind === "drop") return dropped(c);
    if (injected?.kind === "refuse") {
      return refuse(injected.failure.status, "injected failure", failureHeaders(injected.failure));
    }
    const ttl = c.req.header("ttl") ?? null;
    if (ttl === null || !/^\d+$/.test(ttl)) return refuse(400, "TTL header required (RFC 8030 §5.2)");
    if (c.req.header("content-encoding")?.toLowerCase() !== "aes128gcm") {
      return refuse(415, "Content-Encoding must be aes128gcm (RFC 8291)");
    }
    const urgency = c.req.header("urgency") ?? null;
    if (urgency !== null && !["very-low", "low", "normal", "high"].includes(urgency)) {
      return refuse(400, "Urgency must be very-low, low, normal or high");
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length > 4096) return refuse(413, "push message bodies are at most 4096 octets");
    let plaintext: string;
    try {
      plaintext = new TextDecoder("utf-8", { fatal: true }).decode(await decryptPushMessage(body, subscription));
    } catch (error) {
      return refuse(400, `cannot decrypt: ${error instanceof Error ? error.message : String(error)}`);
    }
    let payload: unknown = plaintext;
    try {
      payload = JSON.parse(plaintext);
    } catch {
      // A text payload is fine too.
    }
    const topic = c.req.header("topic") ?? null;
    const object = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : {};
    const message = record({
      route: "push",
      status: 201,
      accepted: true,
      ...(topic === null ? {} : { idempotency_key: topic }),
      to: [endpoint],
      ...(typeof object.title === "string" ? { subject: object.title } : {}),
      text: typeof object.body === "string" ? object.body : plaintext,
      payload,
      push_headers: { urgency, ttl, topic },
    });
    if (injected?.kind === "slow") await sleep(injected.slowMs);
    return c.body(null, 201, { location: `/push/messages/${message.seq}` });
  });

  // ---- Lookups: Twilio's message list and SendGrid's Email Activity ---------------------------
  app.get("/2010-04-01/Accounts/:accountSid/Messages.json", (c) => {
    const accountSid = c.req.param("accountSid");
    if (!twilioAuthorized(c)) {
      return c.json(
        { code: 20003, message: "Authenticate", more_info: "https://www.twilio.com/docs/errors/20003", status: 401 },
        401,
      );
    }
    const params = new URL(c.req.url).searchParams;
    const to = params.get("To");
    const from = params.get("From");
    const on = params.get("DateSent");
    const onOrAfter = params.get("DateSent>");
    const before = params.get("DateSent<");
    const pageSize = Math.min(1000, Math.max(1, Number(params.get("PageSize") ?? 50) || 50));
    const messages = visible("twilio")
      .filter((message) => {
        const day = message.received_at.slice(0, 10);
        return (
          (!to || (message.to ?? []).includes(to)) &&
          (!from || message.from === from) &&
          (!on || day === on) &&
          (!onOrAfter || day >= onOrAfter) &&
          (!before || day < before)
        );
      })
      .reverse()
      .slice(0, pageSize)
      .map((message) => ({
        account_sid: accountSid,
        api_version: "2010-04-01",
        body: message.text ?? "",
        date_created: twilioDate(message.received_at),
        date_sent: twilioDate(message.received_at),
        date_updated: twilioDate(message.received_at),
        direction: "outbound-api",
        error_code: null,
        error_message: null,
        from: message.from ?? null,
        num_segments: String(message.segments ?? 1),
        sid: message.provider_message_id,
        status: "delivered",
        to: message.to?.[0] ?? null,
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${message.provider_message_id}.json`,
      }));
    const uri = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
    return c.json({
      end: Math.max(0, messages.length - 1),
      first_page_uri: `${uri}?PageSize=${pageSize}&Page=0`,
      next_page_uri: null,
      page: 0,
      page_size: pageSize,
      previous_page_uri: null,
      messages,
      start: 0,
      uri,
    });
  });

  app.get("/v3/messages", (c) => {
    if (c.req.header("authorization") !== `Bearer ${credentials.sendgridApiKey}`) {
      return c.json({ errors: [{ field: null, message: "authorization required" }] }, 401);
    }
    const conditions = parseActivityQuery(c.req.query("query") ?? "");
    if (!conditions) return c.json({ errors: [{ field: "query", message: "invalid query" }] }, 400);
    const limit = Math.min(1000, Math.max(1, Number(c.req.query("limit") ?? 10) || 10));
    const matches = (message: ReceivedMessage, condition: ActivityCondition): boolean => {
      if ("customArg" in condition) {
        const args = ((message.payload as { custom_args?: Record<string, unknown> } | undefined)?.custom_args ??
          {}) as Record<string, unknown>;
        return args[condition.customArg] === condition.value;
      }
      switch (condition.field) {
        case "msg_id":
          return `${message.provider_message_id}.filter0001.local.0` === condition.value;
        case "to_email":
          return (message.to ?? []).includes(condition.value);
        case "from_email":
          return message.from === condition.value;
        case "subject":
          return message.subject === condition.value;
        default:
          return condition.value === "delivered";
      }
    };
    const messages = visible("sendgrid")
      .filter((message) => conditions.every((condition) => matches(message, condition)))
      .reverse()
      .slice(0, limit)
      .map((message) => ({
        from_email: message.from,
        msg_id: `${message.provider_message_id}.filter0001.local.0`,
        subject: message.subject,
        to_email: message.to?.[0],
        status: "delivered",
        opens_count: 0,
        clicks_count: 0,
        last_event_time: message.received_at,
      }));
    return c.json({ messages });
  });

  // ---- Control API and inbox -----------------------------------------------------------------
  app.post("/_control/failures", async (c) => {
    const parsed = failureSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ error: "invalid failure rule", issues: parsed.error.issues }, 400);
    const { route, status, count, for_seconds, retry_after, delay_ms, drop } = parsed.data;
    failNext(route, { status, count, forSeconds: for_seconds, retryAfter: retry_after, delayMs: delay_ms, drop });
    return c.json(
      {
        route,
        status: status ?? null,
        count: count ?? null,
        for_seconds: for_seconds ?? null,
        delay_ms: delay_ms ?? null,
        drop: drop ?? false,
      },
      201,
    );
  });
  app.post("/_control/lookup-lag", async (c) => {
    const parsed = lookupLagSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ error: "invalid lookup lag", issues: parsed.error.issues }, 400);
    setLookupLag(parsed.data.seconds);
    return c.json({ seconds: parsed.data.seconds }, 200);
  });
  app.delete("/_control/failures", (c) => {
    for (const route of Object.keys(failures) as ProviderRoute[]) failures[route] = [];
    return c.body(null, 204);
  });
  app.post("/_control/reset", (c) => {
    reset();
    return c.body(null, 204);
  });
  app.get("/_control/stats", (c) => c.json(stats));
  app.get("/inbox", (c) => {
    const route = c.req.query("route");
    const to = c.req.query("to");
    const messages = inbox.filter(
      (message) => (!route || message.route === route) && (!to || (message.to ?? []).includes(to)),
    );
    return c.json({ messages });
  });
  app.get("/", (c) => c.html(inboxPage(inbox)));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));

  return { app, inbox, failNext, reset, setLookupLag, stats: () => structuredClone(stats) };
}

/** What SendGrid's validator would say about a Mail Send body, or undefined when it is valid. */
function sendgridProblem(body: Record<string, unknown>): { message: string; field: string } | undefined {
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0 || personalizations.length > 1000) {
    return {
      field: "personalizations",
      message: "The personalizations field is required and must have at least one personalization.",
    };
  }
  for (const [index, personalization] of personalizations.entries()) {
    const to = (personalization as { to?: unknown })?.to;
    if (!Array.isArray(to) || to.length === 0) {
      return {
        field: `personalizations.${index}.to`,
        message:
          "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
      };
    }
    for (const [toIndex, address] of to.entries()) {
      const { email, name } = (address ?? {}) as { email?: unknown; name?: unknown };
      // SendGrid accepts such a name and then silently drops the mail; refuse it loudly here.
      if (typeof name === "string" && /[,;]/.test(name)) {
        return {
          field: `personalizations.${index}.to.${toIndex}.name`,
          message: "Recipient names may not contain commas or semicolons (SendGrid drops such mail).",
        };
      }
      if (typeof email !== "string" || !EMAIL.test(email)) {
        return {
          field: `personalizations.${index}.to.${toIndex}.email`,
          message: "Does not contain a valid address.",
        };
      }
    }
  }
  const from = body.from as { email?: unknown } | undefined;
  if (typeof from?.email !== "string" || !EMAIL.test(from.email)) {
    return {
      field: "from",
      message:
        "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.",
    };
  }
  const everyPersonalizationHasSubject = personalizations.every(
    (p) => typeof (p as { subject?: unknown }).subject === "string",
  );
  if (
    body.template_id === undefined &&
    !everyPersonalizationHasSubject &&
    (typeof body.subject !== "string" || body.subject.length === 0)
  ) {
    return {
      field: "subject",
      message:
        "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
    };
  }
  const content = body.content;
  if (body.template_id === undefined && (!Array.isArray(content) || content.length === 0)) {
    return {
      field: "content",
      message:
        "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.",
    };
  }
  if (Array.isArray(content)) {
    for (const [index, part] of content.entries()) {
      const { type, value } = part as { type?: unknown; value?: unknown };
      if (typeof type !== "string" || typeof value !== "string" || value.length === 0) {
        return { field: `content.${index}`, message: "Content blocks need a type and a non-empty value." };
      }
    }
    const plainIndex = content.findIndex((part) => (part as { type: string }).type === "text/plain");
    if (plainIndex > 0) {
      return {
        field: "content",
        message: "If present, text/plain content must be first, followed by text/html, then any other content.",
      };
    }
  }
  const customArgs = body.custom_args;
  if (customArgs !== undefined) {
    if (
      customArgs === null ||
      typeof customArgs !== "object" ||
      Object.values(customArgs).some((value) => typeof value !== "string")
    ) {
      return { field: "custom_args", message: "Custom args must be an object with string values." };
    }
    if (new TextEncoder().encode(JSON.stringify(customArgs)).length > 10_000) {
      return { field: "custom_args", message: "The custom arguments may not exceed 10,000 bytes." };
    }
  }
  return undefined;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The inbox page: newest first; message bodies are shown as text, never rendered as HTML. */
function inboxPage(inbox: readonly ReceivedMessage[]): string {
  const rows = [...inbox]
    .reverse()
    .map((message) => {
      const summary = message.subject ?? message.text?.slice(0, 160) ?? message.error ?? "";
      const body = message.text ?? (message.payload === undefined ? "" : JSON.stringify(message.payload, null, 2));
      return `<tr class="${message.accepted ? "ok" : "refused"}">
<td>${message.seq}</td><td>${escapeHtml(message.received_at)}</td><td>${message.route}</td><td>${message.status}${message.duplicate ? " (duplicate)" : ""}</td>
<td>${escapeHtml((message.to ?? [message.webhook_path ?? ""]).join(", "))}</td>
<td><details><summary>${escapeHtml(summary)}</summary><pre>${escapeHtml(body)}</pre></details></td></tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgebus local notification provider</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}tr.refused{color:#a40e26}
pre{white-space:pre-wrap;max-width:70em}</style></head>
<body><h1>Local notification provider</h1>
<p>What the notifier would have sent: SendGrid mail, Twilio SMS, signed webhooks and Web Push messages (decrypted). ${inbox.length} request(s); JSON at <a href="/inbox">/inbox</a>.</p>
<table><thead><tr><th>#</th><th>received</th><th>route</th><th>status</th><th>to</th><th>message</th></tr></thead>
<tbody>${rows || '<tr><td colspan="6">Nothing received yet.</td></tr>'}</tbody></table></body></html>`;
}

export async function startLocalProvider(options: LocalProviderOptions = {}): Promise<LocalProvider> {
  const credentials = { ...LOCAL_PROVIDER_CREDENTIALS, ...options.credentials };
  const { app, inbox, failNext, reset, setLookupLag, stats } = createLocalProvider(
    credentials,
    options.maxBodyBytes ?? 1_000_000,
    options.maxInbox ?? 5_000,
    options.lookupLagSeconds ?? 0,
  );
  const hostname = options.hostname ?? "127.0.0.1";
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: options.port ?? 0, hostname }, (info: AddressInfo) =>
      resolve({ server: started, port: info.port }),
    );
    started.once("error", reject);
  });
  return {
    url: `http://${hostname}:${port}`,
    credentials,
    received: () => inbox.map((message) => ({ ...message })),
    stats,
    failNext,
    setLookupLag,
    reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function main(): Promise<void> {
  const env = process.env;
  const provider = await startLocalProvider({
    port: Number(env.LOCAL_PROVIDER_PORT ?? 8790),
    lookupLagSeconds: Number(env.LOCAL_PROVIDER_LOOKUP_LAG_SECONDS ?? 0) || 0,
    credentials: {
      ...(env.SENDGRID_API_KEY ? { sendgridApiKey: env.SENDGRID_API_KEY } : {}),
      ...(env.TWILIO_ACCOUNT_SID ? { twilioAccountSid: env.TWILIO_ACCOUNT_SID } : {}),
      ...(env.TWILIO_AUTH_TOKEN ? { twilioAuthToken: env.TWILIO_AUTH_TOKEN } : {}),
      ...(env.TWILIO_FROM ? { twilioFrom: env.TWILIO_FROM } : {}),
      ...(env.WEBHOOK_SECRET ? { webhookSecret: env.WEBHOOK_SECRET } : {}),
    },
  });
  console.log(`local notification provider at ${provider.url} (inbox: ${provider.url}/)`);
  console.log(
    `  SENDGRID_BASE_URL=${provider.url} TWILIO_BASE_URL=${provider.url} WEBHOOK_URL=${provider.url}/webhooks/case-system`,
  );
  const stop = () => {
    void provider.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
