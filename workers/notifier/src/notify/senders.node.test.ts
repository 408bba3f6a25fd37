/**
 * The three senders against the local provider, which checks requests the way SendGrid, Twilio
 * and a Standard Webhooks receiver do: a sender that builds a wrong request fails here.
 */
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { LOCAL_PROVIDER_CREDENTIALS, startLocalProvider } from "../../../../scripts/local-provider.ts";
import type { EmailNotification, SmsNotification, WebhookNotification } from "./notification.ts";
import { isUnknownOutcome } from "./provider-error.ts";
import { SendGridSender } from "./sendgrid-sender.ts";
import { verifyWebhook } from "./standard-webhooks.ts";
import { TwilioSender } from "./twilio-sender.ts";
import { WebhookSender } from "./webhook-sender.ts";

const provider = await startLocalProvider({ port: 0 });
const credentials = LOCAL_PROVIDER_CREDENTIALS;
afterAll(() => provider.close());
beforeEach(() => provider.reset());

const email: EmailNotification = {
  channel: "email",
  idempotencyKey: "ntf_email_1",
  to: { email: "amina@haddad.ie", name: "Amina Haddad" },
  subject: "Receipt",
  text: "Thank you.",
  html: "<p>Thank you.</p>",
};
const sms: SmsNotification = { channel: "sms", idempotencyKey: "ntf_sms_1", to: "+35312345678", body: "Reminder" };
const webhook = (): WebhookNotification => ({
  channel: "webhook",
  idempotencyKey: "ntf_webhook_1",
  to: `${provider.url}/webhooks/case-system`,
  type: "gov.permits.application.approved",
  timestamp: "2026-06-03T10:15:00Z",
  data: { application_id: "PA-2026-000871" },
});

const sendgrid = (apiKey = credentials.sendgridApiKey) =>
  new SendGridSender({ baseUrl: provider.url, apiKey, from: { email: "noreply@council.example.gov" } });
const twilio = (authToken = credentials.twilioAuthToken, from = credentials.twilioFrom) =>
  new TwilioSender({ baseUrl: provider.url, accountSid: credentials.twilioAccountSid, authToken, from });
const webhooks = (secret = credentials.webhookSecret) => new WebhookSender({ secret });

async function rejection(promise: Promise<unknown>): Promise<EdgebusError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(EdgebusError);
  return error as EdgebusError;
}

describe("SendGridSender", () => {
  it("sends a valid Mail Send request and returns X-Message-Id", async () => {
    const receipt = await sendgrid().send(email);
    const [received] = provider.received();
    expect(receipt).toEqual({ providerMessageId: received?.provider_message_id, status: 202 });
    expect(received).toMatchObject({
      route: "sendgrid",
      accepted: true,
      to: ["amina@haddad.ie"],
      from: "noreply@council.example.gov",
      subject: "Receipt",
      text: "Thank you.",
      html: "<p>Thank you.</p>",
      idempotency_key: "ntf_email_1",
    });
  });

  it("removes commas and semicolons from the recipient name, which SendGrid would drop the mail for", async () => {
    await sendgrid().send({ ...email, to: { email: "amina@haddad.ie", name: "Haddad, Amina; Dr" } });
    const [received] = provider.received();
    expect(received?.accepted).toBe(true);
    expect(received?.payload).toMatchObject({ personalizations: [{ to: [{ name: "Haddad Amina Dr" }] }] });
  });

  it("maps 429 with Retry-After to a retryable rate_limited error carrying the delay", async () => {
    provider.failNext("sendgrid", { status: 429, retryAfter: 7 });
    const error = await rejection(sendgrid().send(email));
    expect(error).toMatchObject({ code: "rate_limited", retryable: true, retryAfterSeconds: 7 });
  });

  it("maps 5xx to retryable and other 4xx to permanent", async () => {
    provider.failNext("sendgrid", { status: 503 });
    expect(await rejection(sendgrid().send(email))).toMatchObject({ code: "upstream_unavailable", retryable: true });
    provider.failNext("sendgrid", { status: 408 });
    expect(await rejection(sendgrid().send(email))).toMatchObject({ retryable: true });
    provider.failNext("sendgrid", { status: 400 });
    expect(await rejection(sendgrid().send(email))).toMatchObject({ code: "bad_request", retryable: false });
  });

  it("a wrong API key is a permanent failure with SendGrid's explanation", async () => {
    const error = await rejection(sendgrid("SG.wrong").send(email));
    expect(error).toMatchObject({ retryable: false, details: { provider: "sendgrid", status: 401 } });
    expect(JSON.stringify(error.details)).toContain("authorization grant is invalid");
  });

  it("an invalid recipient is refused by the provider's validation, not silently sent", async () => {
    const error = await rejection(sendgrid().send({ ...email, to: { email: "not-an-address" } }));
    expect(error).toMatchObject({ retryable: false, details: { status: 400 } });
    expect(provider.received().filter((message) => message.accepted)).toHaveLength(0);
  });

  it("an unreachable provider is a retryable network error", async () => {
    const closed = await startLocalProvider({ port: 0 });
    await closed.close();
    const sender = new SendGridSender({ baseUrl: closed.url, apiKey: "k", from: { email: "a@b.example" } });
    expect(await rejection(sender.send(email))).toMatchObject({ code: "upstream_unavailable", retryable: true });
  });
});

describe("TwilioSender", () => {
  it("sends a form-encoded Messages request with Basic auth and returns the sid", async () => {
    const receipt = await twilio().send(sms);
    const [received] = provider.received();
    expect(receipt.status).toBe(201);
    expect(receipt.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(received).toMatchObject({
      route: "twilio",
      accepted: true,
      to: ["+35312345678"],
      from: credentials.twilioFrom,
      text: "Reminder",
      segments: 1,
      idempotency_key: "ntf_sms_1",
      provider_message_id: receipt.providerMessageId,
    });
  });

  it("uses MessagingServiceSid when configured with one", async () => {
    const service = `MG${"a".repeat(32)}`;
    await twilio(undefined, service).send(sms);
    expect(provider.received()[0]).toMatchObject({ accepted: true, from: service });
  });

  it("maps 429 (Retry-After), 5xx and 4xx like the other senders", async () => {
    provider.failNext("twilio", { status: 429, retryAfter: 3 });
    expect(await rejection(twilio().send(sms))).toMatchObject({ retryable: true, retryAfterSeconds: 3 });
    provider.failNext("twilio", { status: 500 });
    expect(await rejection(twilio().send(sms))).toMatchObject({ retryable: true });
    const invalid = await rejection(twilio().send({ ...sms, to: "0871234567" }));
    expect(invalid).toMatchObject({ retryable: false, details: { body: { code: 21211 } } });
  });

  it("wrong credentials are permanent (Twilio error 20003)", async () => {
    const error = await rejection(twilio("wrong").send(sms));
    expect(error).toMatchObject({ retryable: false, details: { status: 401, body: { code: 20003 } } });
  });
});

describe("WebhookSender", () => {
  it("delivers a Standard Webhooks payload the receiver verifies", async () => {
    const receipt = await webhooks().send(webhook());
    expect(receipt).toEqual({ providerMessageId: "ntf_webhook_1", status: 204 });
    expect(provider.received()[0]).toMatchObject({
      route: "webhook",
      accepted: true,
      webhook_path: "/webhooks/case-system",
      payload: {
        type: "gov.permits.application.approved",
        timestamp: "2026-06-03T10:15:00Z",
        data: { application_id: "PA-2026-000871" },
      },
    });
  });

  it("a delivery signed with another secret is refused (401, permanent)", async () => {
    const other = `whsec_${btoa("x".repeat(32))}`;
    const error = await rejection(webhooks(other).send(webhook()));
    expect(error).toMatchObject({ retryable: false, details: { status: 401 } });
    expect(provider.received()[0]).toMatchObject({ accepted: false, error: expect.stringMatching(/bad_signature/) });
  });

  it("a delivery with a stale timestamp is refused", async () => {
    const stale = new WebhookSender({ secret: credentials.webhookSecret, now: () => Date.now() - 10 * 60_000 });
    expect(await rejection(stale.send(webhook()))).toMatchObject({ retryable: false });
    expect(provider.received()[0]?.error).toMatch(/timestamp_out_of_tolerance/);
  });

  it("honours the receiver's 429 Retry-After", async () => {
    provider.failNext("webhook", { status: 429, retryAfter: 30 });
    expect(await rejection(webhooks().send(webhook()))).toMatchObject({ retryable: true, retryAfterSeconds: 30 });
  });

  it("decodes its secret once and signs every delivery with it, each one verifiable", async () => {
    const deliveries: { headers: Record<string, string>; body: string }[] = [];
    const sender = new WebhookSender({
      secret: credentials.webhookSecret,
      fetch: async (_url, init) => {
        deliveries.push({ headers: init?.headers as Record<string, string>, body: String(init?.body) });
        return new Response(null, { status: 204 });
      },
    });
    const decode = vi.spyOn(globalThis, "atob");
    try {
      const ids = ["ntf_webhook_1", "ntf_webhook_2", "ntf_webhook_3"];
      await Promise.all(ids.map((idempotencyKey) => sender.send({ ...webhook(), idempotencyKey })));
      expect(decode).toHaveBeenCalledTimes(1);
    } finally {
      decode.mockRestore();
    }
    expect(deliveries.map(({ headers }) => headers["webhook-id"]).sort()).toEqual([
      "ntf_webhook_1",
      "ntf_webhook_2",
      "ntf_webhook_3",
    ]);
    for (const { headers, body } of deliveries) {
      expect(verifyWebhook(credentials.webhookSecret, headers, body)).toEqual({ ok: true });
    }
  });

  it("a secret that is not key material fails every send alike, nothing sent", async () => {
    const sender = webhooks("whsec_***");
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await rejection(sender.send(webhook()))).toMatchObject({ code: "bad_request", retryable: false });
    }
    expect(provider.received()).toEqual([]);
  });
});

describe("unknown outcomes and the lookups that settle them", () => {
  it("a call that gets no answer in time is an unknown outcome, not a plain failure", async () => {
    provider.failNext("twilio", { delayMs: 1_000 });
    const slow = new TwilioSender({
      baseUrl: provider.url,
      accountSid: credentials.twilioAccountSid,
      authToken: credentials.twilioAuthToken,
      from: credentials.twilioFrom,
      timeoutMs: 200,
    });
    const error = await rejection(slow.send(sms));
    expect(isUnknownOutcome(error)).toBe(true);
    expect(error.retryable).toBe(true);
    expect(isUnknownOutcome(new EdgebusError("upstream_unavailable", "twilio answered 503"))).toBe(false);
  });

  it("Twilio: found by recipient and exact body among the messages sent since; a different body is not it", async () => {
    const since = new Date();
    const receipt = await twilio().send(sms);
    await expect(twilio().lookup(sms, since)).resolves.toEqual({
      found: true,
      providerMessageId: receipt.providerMessageId,
    });
    await expect(twilio().lookup({ ...sms, body: "Another reminder" }, since)).resolves.toEqual({ found: false });
    await expect(twilio().lookup({ ...sms, to: "+35399999999" }, since)).resolves.toEqual({ found: false });
  });

  it("SendGrid: a lookup only with Email Activity, found by the idempotency key in custom_args", async () => {
    expect(sendgrid().lookup).toBeUndefined();
    const withActivity = new SendGridSender({
      baseUrl: provider.url,
      apiKey: credentials.sendgridApiKey,
      from: { email: "noreply@council.example.gov" },
      emailActivity: true,
    });
    const lookup = withActivity.lookup as NonNullable<SendGridSender["lookup"]>;
    await expect(lookup(email, new Date())).resolves.toEqual({ found: false });
    await withActivity.send(email);
    await expect(lookup(email, new Date())).resolves.toMatchObject({ found: true });
    await expect(lookup({ ...email, idempotencyKey: "ntf_other" }, new Date())).resolves.toEqual({ found: false });
  });

  it("a lookup the provider refuses rejects (the notifier keeps the send unknown and asks again later)", async () => {
    const wrongKey = new SendGridSender({
      baseUrl: provider.url,
      apiKey: "SG.wrong",
      from: { email: "noreply@council.example.gov" },
      emailActivity: true,
    });
    const lookup = wrongKey.lookup as NonNullable<SendGridSender["lookup"]>;
    expect((await rejection(lookup(email, new Date()))).details).toMatchObject({ provider: "sendgrid", status: 401 });
  });
});
