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

function mailSend(body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${provider.url}/v3/mail/send`, {
    method: "POST",
    signal,
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
function sendSms(params: Record<string, string>, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${provider.url}${twilioPath}`, {
    method: "POST",
    signal,
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
    const headers = signWebhook(secret, "msg_1", Date.now() / 1000, body);
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

describe("local provider: slow and dropped requests", () => {
  const injectFailure = (rule: Record<string, unknown>) =>
    fetch(`${provider.url}/_control/failures`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(rule),
    });

  it("slow: accepts the message at once (it counts and can be looked up) but answers after delay_ms", async () => {
    expect((await injectFailure({ route: "sendgrid", delay_ms: 600 })).status).toBe(201);
    const started = Date.now();
    const gaveUp = await mailSend(validMail, {}).then(
      () => false,
      () => true,
    );
    expect(gaveUp).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(provider.stats().sendgrid.accepted).toBe(1);
    // A client that gives up first never learns it was accepted.
    await injectFailure({ route: "twilio", delay_ms: 2_000 });
    const aborted = await sendSms(
      { To: "+35312345678", From: credentials.twilioFrom, Body: "slow" },
      {},
      AbortSignal.timeout(200),
    ).then(
      () => "answered",
      () => "timed out",
    );
    expect(aborted).toBe("timed out");
    expect(provider.stats().twilio.accepted).toBe(1);
  });

  it("drop: holds the request without accepting it and never answers before the client gives up", async () => {
    await injectFailure({ route: "twilio", drop: true });
    const outcome = await sendSms(
      { To: "+35312345678", From: credentials.twilioFrom, Body: "dropped" },
      {},
      AbortSignal.timeout(300),
    ).then(
      () => "answered",
      () => "timed out",
    );
    expect(outcome).toBe("timed out");
    expect(provider.stats().twilio.accepted).toBe(0);
    expect((await sendSms({ To: "+35312345678", From: credentials.twilioFrom, Body: "next" })).status).toBe(201);
  });

  it("refuses a rule that neither fails, delays nor drops", async () => {
    expect((await injectFailure({ route: "twilio" })).status).toBe(400);
  });
});

describe("local provider: lookups (Twilio message list, SendGrid Email Activity) with a lag", () => {
  const setLag = (seconds: number) =>
    fetch(`${provider.url}/_control/lookup-lag`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ seconds }),
    });
  const today = () => new Date().toISOString().slice(0, 10);

  async function twilioList(query: Record<string, string>, authorization = twilioAuth) {
    const response = await fetch(`${provider.url}${twilioPath}?${new URLSearchParams(query)}`, {
      headers: { authorization },
    });
    return { status: response.status, body: (await response.json()) as { messages: Record<string, unknown>[] } };
  }
  async function activity(query: string, authorization = `Bearer ${credentials.sendgridApiKey}`) {
    const response = await fetch(`${provider.url}/v3/messages?${new URLSearchParams({ query, limit: "10" })}`, {
      headers: { authorization },
    });
    return { status: response.status, body: (await response.json()) as { messages: Record<string, unknown>[] } };
  }

  it("Twilio: GET Messages.json filtered by To and DateSent lists what was accepted, once the lag passed", async () => {
    await setLag(1);
    await sendSms({ To: "+35311111111", From: credentials.twilioFrom, Body: "Your inspection is on Monday" });
    await sendSms({ To: "+35322222222", From: credentials.twilioFrom, Body: "Other" });
    expect((await twilioList({ To: "+35311111111", DateSent: today() })).body.messages).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { status, body } = await twilioList({ To: "+35311111111", DateSent: today() });
    expect(status).toBe(200);
    expect(body.messages).toEqual([
      expect.objectContaining({
        to: "+35311111111",
        body: "Your inspection is on Monday",
        sid: expect.stringMatching(/^SM/),
        date_sent: expect.any(String),
      }),
    ]);
    expect((await twilioList({ To: "+35311111111", "DateSent>": today() })).body.messages).toHaveLength(1);
    expect((await twilioList({ To: "+35311111111", DateSent: "2020-01-01" })).body.messages).toEqual([]);
    expect((await twilioList({ To: "+35311111111" }, "Basic eDp5")).status).toBe(401);
    await setLag(0);
  });

  it("SendGrid: GET /v3/messages finds a mail by its custom argument, once the lag passed", async () => {
    await setLag(1);
    await mailSend({ ...validMail, custom_args: { idempotency_key: "ntf_abc" } });
    await mailSend({ ...validMail, custom_args: { idempotency_key: "ntf_other" } });
    const query = `unique_args['idempotency_key']="ntf_abc"`;
    expect((await activity(query)).body.messages).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { status, body } = await activity(query);
    expect(status).toBe(200);
    expect(body.messages).toEqual([
      expect.objectContaining({ to_email: "amina@haddad.ie", subject: "Hello", msg_id: expect.any(String) }),
    ]);
    expect((await activity(`to_email="amina@haddad.ie"`)).body.messages).toHaveLength(2);
    expect((await activity(query, "Bearer nope")).status).toBe(401);
    expect((await activity("not a query")).status).toBe(400);
    await setLag(0);
  });
});
