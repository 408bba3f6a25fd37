/**
 * The local provider must refuse what the real providers refuse, or the notifier's tests would
 * pass against requests SendGrid or Twilio reject. Raw HTTP here, no senders involved.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { signWebhook } from "../workers/notifier/src/notify/standard-webhooks.ts";
import { LOCAL_PROVIDER_CREDENTIALS as credentials, startLocalProvider } from "./local-provider.ts";

const provider = await startLocalProvider({ port: 0 });
afterAll(() => provider.close());
beforeEach(() => provider.reset());

const validMail = {
  personalizations: [{ to: [{ email: "amina@haddad.ie" }] }],
  from: { email: "noreply@council.example.gov" },
  subject: "Hello",
  content: [
    { type: "text/plain", value: "Hi" },
    { type: "text/html", value: "<p>Hi</p>" },
  ],
};

function mailSend(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${provider.url}/v3/mail/send`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${credentials.sendgridApiKey}`,
      "content-type": "application/json",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const twilioPath = `/2010-04-01/Accounts/${credentials.twilioAccountSid}/Messages.json`;
const twilioAuth = `Basic ${btoa(`${credentials.twilioAccountSid}:${credentials.twilioAuthToken}`)}`;
function sendSms(params: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${provider.url}${twilioPath}`, {
    method: "POST",
    headers: { authorization: twilioAuth, "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

async function errorField(response: Response): Promise<string | null | undefined> {
  const body = (await response.json()) as { errors: { field: string | null }[] };
  return body.errors[0]?.field;
}

describe("local provider: SendGrid v3 Mail Send", () => {
  it("accepts a valid request with 202, an empty body and X-Message-Id", async () => {
    const response = await mailSend(validMail);
    expect(response.status).toBe(202);
    expect(await response.text()).toBe("");
    expect(response.headers.get("x-message-id")).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("refuses what SendGrid refuses", async () => {
    expect((await mailSend(validMail, { authorization: "Bearer nope" })).status).toBe(401);
    expect((await mailSend(validMail, { "content-type": "text/plain" })).status).toBe(415);
    expect((await mailSend("{not json")).status).toBe(400);
    expect(await errorField(await mailSend({ ...validMail, personalizations: [] }))).toBe("personalizations");
    expect(await errorField(await mailSend({ ...validMail, from: undefined }))).toBe("from");
    expect(await errorField(await mailSend({ ...validMail, subject: undefined }))).toBe("subject");
    expect(await errorField(await mailSend({ ...validMail, content: [] }))).toBe("content");
    const reversed = { ...validMail, content: [...validMail.content].reverse() };
    expect(await errorField(await mailSend(reversed))).toBe("content");
    expect(await errorField(await mailSend({ ...validMail, custom_args: { n: 1 } }))).toBe("custom_args");
    const badTo = { ...validMail, personalizations: [{ to: [{ email: "nobody" }] }] };
    expect(await errorField(await mailSend(badTo))).toBe("personalizations.0.to.0.email");
    const commaName = { ...validMail, personalizations: [{ to: [{ email: "a@b.ie", name: "Haddad, Amina" }] }] };
    expect(await errorField(await mailSend(commaName))).toBe("personalizations.0.to.0.name");
    expect(provider.received().every((message) => !message.accepted)).toBe(true);
  });
});

describe("local provider: Twilio Messages", () => {
  it("accepts a valid request with 201 and a Message resource", async () => {
    const response = await sendSms({ To: "+35312345678", From: credentials.twilioFrom, Body: "Hi" });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({
      sid: expect.stringMatching(/^SM[0-9a-f]{32}$/),
      status: "queued",
      to: "+35312345678",
      num_segments: "1",
    });
  });

  it("refuses what Twilio refuses, with Twilio's error codes", async () => {
    const code = async (response: Response) => ((await response.json()) as { code: number }).code;
    expect(
      await code(
        await sendSms({ To: "+35312345678", Body: "x", From: credentials.twilioFrom }, { authorization: "Basic eDp5" }),
      ),
    ).toBe(20003);
    expect(await code(await sendSms({ Body: "x", From: credentials.twilioFrom }))).toBe(21604);
    expect(await code(await sendSms({ To: "0871234567", Body: "x", From: credentials.twilioFrom }))).toBe(21211);
    expect(await code(await sendSms({ To: "+35312345678", Body: "x" }))).toBe(21603);
    expect(await code(await sendSms({ To: "+35312345678", Body: "x", From: "+15550000000" }))).toBe(21606);
    expect(await code(await sendSms({ To: "+35312345678", From: credentials.twilioFrom }))).toBe(21602);
    expect(
      await code(await sendSms({ To: "+35312345678", From: credentials.twilioFrom, Body: "x".repeat(1601) })),
    ).toBe(21617);
    // JSON is not how Twilio takes parameters: it reads none.
    const json = await fetch(`${provider.url}${twilioPath}`, {
      method: "POST",
      headers: { authorization: twilioAuth, "content-type": "application/json" },
      body: JSON.stringify({ To: "+35312345678", From: credentials.twilioFrom, Body: "x" }),
    });
    expect(await code(json)).toBe(21604);
  });

  it("flags a second accepted request with the same idempotency token as a duplicate", async () => {
    const params = { To: "+35312345678", From: credentials.twilioFrom, Body: "Hi" };
    await sendSms(params, { "i-twilio-idempotency-token": "k1" });
    await sendSms(params, { "i-twilio-idempotency-token": "k1" });
    expect(provider.received().map((message) => message.duplicate)).toEqual([false, true]);
  });

  it("counts accepted, refused and duplicate sends per route in /_control/stats, beyond the inbox size", async () => {
    const small = await startLocalProvider({ port: 0, maxInbox: 2 });
    try {
      const send = (token: string, to = "+35312345678") =>
        fetch(`${small.url}${twilioPath}`, {
          method: "POST",
          headers: {
            authorization: twilioAuth,
            "content-type": "application/x-www-form-urlencoded",
            "i-twilio-idempotency-token": token,
          },
          body: new URLSearchParams({ To: to, From: credentials.twilioFrom, Body: "Hi" }).toString(),
        });
      await send("a");
      await send("b");
      await send("a");
      await send("c", "not-a-number");
      await send("a");
      const stats = (await (await fetch(`${small.url}/_control/stats`)).json()) as Record<string, unknown>;
      expect(stats.twilio).toEqual({ accepted: 4, refused: 1, duplicates: 2, duplicate_keys: ["a", "a"] });
      expect(stats.sendgrid).toEqual({ accepted: 0, refused: 0, duplicates: 0, duplicate_keys: [] });
      expect(small.received()).toHaveLength(2);
      small.reset();
      expect(small.stats().twilio.accepted).toBe(0);
    } finally {
      await small.close();
    }
  });
});

describe("local provider: Standard Webhooks receiver", () => {
  const deliver = async (secret: string, body: string, contentType = "application/json") => {
    const headers = await signWebhook(secret, "msg_1", Date.now() / 1000, body);
    return fetch(`${provider.url}/webhooks/case-system`, {
      method: "POST",
      headers: { ...headers, "content-type": contentType },
      body,
    });
  };
  const payload = JSON.stringify({ type: "t", timestamp: "2026-01-01T00:00:00Z", data: {} });

  it("accepts a correctly signed delivery", async () => {
    expect((await deliver(credentials.webhookSecret, payload)).status).toBe(204);
  });

  it("refuses bad signatures, wrong content types and payloads without {type, timestamp, data}", async () => {
    expect((await deliver(`whsec_${btoa("y".repeat(32))}`, payload)).status).toBe(401);
    expect((await deliver(credentials.webhookSecret, payload, "text/plain")).status).toBe(415);
    expect((await deliver(credentials.webhookSecret, JSON.stringify({ data: {} }))).status).toBe(400);
    const unsigned = await fetch(`${provider.url}/webhooks/x`, { method: "POST", body: payload });
    expect(unsigned.status).toBe(401);
  });
});

describe("local provider: failure injection and inbox", () => {
  const injectFailure = (rule: Record<string, unknown>) =>
    fetch(`${provider.url}/_control/failures`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(rule),
    });

  it("fails the next N requests of one route only, with Retry-After", async () => {
    expect((await injectFailure({ route: "sendgrid", status: 429, count: 2, retry_after: 9 })).status).toBe(201);
    const first = await mailSend(validMail);
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("9");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(first.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    expect((await mailSend(validMail)).status).toBe(429);
    expect((await sendSms({ To: "+35312345678", From: credentials.twilioFrom, Body: "x" })).status).toBe(201);
    expect((await mailSend(validMail)).status).toBe(202);
  });

  it("fails every request during a time window", async () => {
    await injectFailure({ route: "twilio", status: 503, for_seconds: 1 });
    const params = { To: "+35312345678", From: credentials.twilioFrom, Body: "x" };
    expect((await sendSms(params)).status).toBe(503);
    expect((await sendSms(params)).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await sendSms(params)).status).toBe(201);
  });

  it("refuses malformed control requests", async () => {
    expect((await injectFailure({ route: "smtp", status: 500 })).status).toBe(400);
    expect((await injectFailure({ route: "sendgrid", status: 200 })).status).toBe(400);
  });

  it("shows the inbox as JSON (filterable) and as an HTML page that escapes message content", async () => {
    await mailSend({ ...validMail, subject: "<script>alert(1)</script>" });
    await sendSms({ To: "+35312345678", From: credentials.twilioFrom, Body: "Hi" });
    const json = (await (await fetch(`${provider.url}/inbox?route=twilio`)).json()) as { messages: unknown[] };
    expect(json.messages).toHaveLength(1);
    const page = await (await fetch(`${provider.url}/`)).text();
    expect(page).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(page).not.toContain("<script>alert(1)</script>");
  });
});
