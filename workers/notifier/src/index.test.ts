/**
 * The notifier inside workerd against the real Postgres (Hyperdrive binding) and the local
 * notification provider, which checks every request as SendGrid, Twilio and a Standard Webhooks
 * receiver would. Every test uses fresh citizen ids and addresses, so it reads only its own
 * rows and inbox entries; failures are injected through the provider's control API.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, inject, it, vi } from "vitest";
import { openDatabase } from "#shared/db/client.ts";
import { governmentDomains } from "../../../schemas/index.ts";
import { consumerMetricsTotals, metricsQueue } from "../../../test/support/consumer-metrics.ts";
import {
  queueMessage,
  queueWorker,
  recordingBatch as recordingBatchFrom,
  recordingDeadLetters,
} from "../../../test/support/queue-delivery.ts";
import { handleNotificationBatch } from "./index.ts";
import { NOTIFICATION_RULES } from "./notify/notification-rules.ts";

const QUEUE = "notifications";
const bindings = env as unknown as { DEAD_LETTER_QUEUE: Queue; HYPERDRIVE: Hyperdrive };
const available = inject("postgresAvailable");
const providerUrl = inject("providerUrl");

const worker = queueWorker(exports);

const examples = new Map(governmentDomains.flatMap((domain) => domain.events.map((e) => [e.type, e.example])));
const randomCitizenId = () => 1_000_000_000 + Math.floor(Math.random() * 8_000_000_000_000);
const randomDigits = (count: number) => Array.from({ length: count }, () => Math.floor(Math.random() * 10)).join("");

interface Contact {
  name?: string;
  email?: string;
  phone?: string;
}

function freshContact(overrides: Contact = {}): Required<Contact> {
  return {
    name: "Amina Haddad",
    email: `amina.${crypto.randomUUID()}@example.org`,
    phone: `+3538${randomDigits(8)}`,
    ...overrides,
  };
}

/** Where each notification rule's event carries contact details. */
const CONTACT_FIELD: Record<string, string> = {
  "gov.permits.application.submitted": "applicant",
  "gov.permits.application.approved": "applicant",
  "gov.permits.application.rejected": "applicant",
  "gov.permits.inspection.scheduled": "applicant",
  "gov.revenue.payment.completed": "payer",
  "gov.revenue.payment.failed": "payer",
  "gov.revenue.refund.issued": "payer",
  "gov.documents.document.verified": "owner",
};

/**
 * The catalogue example of `type` for a fresh citizen, with `contact` (or none) in the event,
 * published by a key holding `notify:direct-contact` unless `stamp` says otherwise (`null`: an
 * event without the stamp, as published before it existed).
 */
function event(
  type: string,
  citizenId: number,
  contact: Contact | undefined,
  data: Record<string, unknown> = {},
  stamp: { edgebuskeyid: string; edgebusdirectcontact: boolean } | null = {
    edgebuskeyid: "identity-service",
    edgebusdirectcontact: true,
  },
) {
  const example = { ...(examples.get(type) as Record<string, unknown>) };
  if (type === "gov.auth.citizen.created") {
    Object.assign(example, { id: citizenId, phone: null, ...contact });
  } else {
    example.citizen_id = citizenId;
    const field = CONTACT_FIELD[type] as string;
    if (contact) example[field] = contact;
    else delete example[field];
  }
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/test/notifier",
    type,
    time: "2026-11-22T08:00:00Z",
    partitionkey: String(citizenId),
    ...(stamp ?? {}),
    data: { ...example, ...data },
  };
}

/** Published by a key without `notify:direct-contact`. */
const PERMITS_KEY = { edgebuskeyid: "permits-service", edgebusdirectcontact: false };

const message = queueMessage;
const recordingBatch = (messages: ReturnType<typeof queueMessage>[]) => recordingBatchFrom(QUEUE, messages);
/** The Worker's env with the real DLQ binding, every dead letter recorded. */
const recordingEnv = (overrides: Record<string, unknown> = {}) => recordingDeadLetters(env, overrides);

async function deliver(
  body: unknown,
  attempts = 1,
  overrides: Record<string, unknown> = {},
  enqueuedAt: Date = new Date(),
) {
  const delivery = recordingBatch([{ ...message(body, attempts), timestamp: enqueuedAt }]);
  const recorded = recordingEnv(overrides);
  await handleNotificationBatch(delivery.batch, recorded.env);
  const [delaySeconds] = [...delivery.retried.values()];
  return {
    acked: delivery.acked.size === 1,
    retried: delivery.retried.size === 1,
    delaySeconds,
    letters: recorded.letters,
  };
}

interface InboxEntry {
  route: "sendgrid" | "twilio" | "webhook";
  accepted: boolean;
  duplicate: boolean;
  to?: string[];
  subject?: string;
  text?: string;
  html?: string;
  idempotency_key?: string;
  payload?: { type: string; data: { event_id: string; template: string } };
}

async function inbox(): Promise<InboxEntry[]> {
  const response = await fetch(`${providerUrl}/inbox`);
  return ((await response.json()) as { messages: InboxEntry[] }).messages;
}

/** Accepted requests addressed to `address`, or webhooks about `eventId`. */
async function receivedFor(address: string): Promise<InboxEntry[]> {
  return (await inbox()).filter(
    (entry) =>
      entry.accepted &&
      ((entry.to ?? []).includes(address) || (entry.route === "webhook" && entry.payload?.data.event_id === address)),
  );
}

async function failNext(
  route: InboxEntry["route"],
  status: number | undefined,
  options: { retry_after?: number; count?: number; delay_ms?: number; drop?: boolean } = {},
) {
  const response = await fetch(`${providerUrl}/_control/failures`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ route, ...(status === undefined ? {} : { status }), ...options }),
  });
  expect(response.status).toBe(201);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sendRows(eventId: string) {
  const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
  return sql<
    {
      channel: string;
      status: string;
      attempts: number;
      recipient: string;
      skip_reason: string | null;
      locale: string | null;
      provider_message_id: string | null;
      last_error: string | null;
      reconciliation: string | null;
      reconcile_after: Date | null;
    }[]
  >`
    select channel, status, attempts, recipient, skip_reason, locale, provider_message_id, last_error,
           reconciliation, reconcile_after
    from edgebus.notifications where event_id = ${eventId} order by channel`;
}

async function storeCitizen(
  directory: "permits" | "revenue",
  citizenId: number,
  contact: Contact & { language?: string },
  deleted = false,
) {
  const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
  const table = sql(directory);
  await sql`
    insert into ${table}.citizen_refs (citizen_id, name, email, phone, preferred_language, event_version, last_event_id,
                                       last_event_source, deleted_at)
    values (${citizenId}, ${contact.name ?? null}, ${contact.email ?? null}, ${contact.phone ?? null}, ${contact.language ?? null},
            1, ${crypto.randomUUID()}, '/test/notifier', ${deleted ? new Date() : null})`;
}

describe.skipIf(!available)("notifier (workerd, real Postgres, local provider)", () => {
  beforeEach(async () => {
    await fetch(`${providerUrl}/_control/failures`, { method: "DELETE" });
  });

  for (const notificationRule of NOTIFICATION_RULES) {
    it(`${notificationRule.type} → ${notificationRule.template} over ${notificationRule.channels.map((c) => c.channel).join(", ")}`, async () => {
      const contact = freshContact();
      const body = event(notificationRule.type, randomCitizenId(), contact);
      const result = await deliver(body);
      expect(result).toMatchObject({ acked: true, retried: false, letters: [] });

      const channels = new Set(notificationRule.channels.map((rule) => rule.channel));
      const emails = await receivedFor(contact.email);
      // citizen.created carries no phone in this test (the snapshot's phone is null).
      const texts = notificationRule.type === "gov.auth.citizen.created" ? [] : await receivedFor(contact.phone);
      const webhooks = await receivedFor(body.id);
      expect(emails.map((e) => e.route)).toEqual(channels.has("email") ? ["sendgrid"] : []);
      expect(texts.map((e) => e.route)).toEqual(channels.has("sms") ? ["twilio"] : []);
      expect(webhooks.map((e) => e.route)).toEqual(["webhook"]);
      if (channels.has("email")) {
        expect(emails[0]?.subject).toBeTruthy();
        expect(emails[0]?.text).toContain("Dear Amina Haddad,");
        expect(emails[0]?.html).toContain("<p>Dear Amina Haddad,</p>");
      }
      if (channels.has("sms")) expect(texts[0]?.text).toMatch(/\S/);
      expect(webhooks[0]?.payload).toMatchObject({
        type: notificationRule.type,
        data: { template: notificationRule.template },
      });

      const rows = await sendRows(body.id);
      expect(rows.map((row) => [row.channel, row.status])).toEqual(
        [...channels].sort().map((channel) => [channel, "sent"]),
      );
      expect(rows.every((row) => row.provider_message_id && row.locale === "en")).toBe(true);
    });
  }

  it("a redelivered event sends nothing twice", async () => {
    const contact = freshContact();
    const body = event("gov.permits.application.approved", randomCitizenId(), contact);
    expect((await deliver(body, 1)).acked).toBe(true);
    expect((await deliver(body, 2)).acked).toBe(true);
    // Same event in two messages of one batch (a producer-side duplicate) is sent once too.
    const pair = recordingBatch([message(body), message(body)]);
    await handleNotificationBatch(pair.batch, recordingEnv().env);
    expect(pair.acked.size).toBe(2);
    expect((await receivedFor(contact.email)).length).toBe(1);
    expect((await receivedFor(contact.phone)).length).toBe(1);
    expect((await receivedFor(body.id)).length).toBe(1);
    expect((await sendRows(body.id)).map((row) => row.attempts)).toEqual([1, 1, 1]);
  });

  it("counts each batch once in edgebus.consumer_metrics: applied, duplicate, retried, dead-lettered", async () => {
    const queue = metricsQueue(QUEUE);
    const contact = freshContact();
    const sent = event("gov.permits.application.approved", randomCitizenId(), contact);
    const failing = event("gov.revenue.payment.completed", randomCitizenId(), freshContact());
    const batches = [[message(sent)], [message(sent, 2)], [message(failing)], [message({ not: "an event" })]];
    for (const [index, messages] of batches.entries()) {
      if (index === 2) await failNext("sendgrid", 503);
      const delivery = recordingBatchFrom(queue, messages);
      await handleNotificationBatch(delivery.batch, recordingEnv().env);
    }
    const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
    expect(await consumerMetricsTotals(sql, "notifier", queue)).toEqual({
      applied: 1,
      // The redelivery found every channel sent already.
      duplicate: 1,
      retried: 1,
      dead_lettered: 1,
      batches: 4,
      batch_size_sum: 4,
      event_age_count: 3,
      enqueue_age_count: 4,
    });
  });

  it("a provider 429 is retried after its Retry-After, and the redelivery sends only what is missing", async () => {
    const contact = freshContact();
    const body = event("gov.permits.application.submitted", randomCitizenId(), contact);
    await failNext("sendgrid", 429, { retry_after: 120 });
    const first = await deliver(body, 1);
    expect(first).toMatchObject({ acked: false, retried: true, letters: [] });
    expect(first.delaySeconds).toBeGreaterThanOrEqual(120);
    expect(await receivedFor(contact.email)).toHaveLength(0);
    expect(await receivedFor(contact.phone)).toHaveLength(1); // SMS went out; it is not sent again
    const failedRow = (await sendRows(body.id)).find((row) => row.channel === "email");
    expect(failedRow).toMatchObject({ status: "failed", last_error: expect.stringMatching(/^rate_limited/) });

    const second = await deliver(body, 2);
    expect(second).toMatchObject({ acked: true, retried: false });
    expect(await receivedFor(contact.email)).toHaveLength(1);
    expect(await receivedFor(contact.phone)).toHaveLength(1);
    expect((await sendRows(body.id)).map((row) => [row.channel, row.status, row.attempts])).toEqual([
      ["email", "sent", 2],
      ["sms", "sent", 1],
      ["webhook", "sent", 1],
    ]);
  });

  it("when channels fail differently, any transient failure means retry (after the longest Retry-After)", async () => {
    const contact = freshContact();
    const body = event("gov.permits.application.rejected", randomCitizenId(), contact);
    await failNext("sendgrid", 400);
    await failNext("twilio", 429, { retry_after: 45 });
    const result = await deliver(body, 1);
    expect(result).toMatchObject({ acked: false, retried: true, letters: [] });
    expect(result.delaySeconds).toBeGreaterThanOrEqual(45);
    expect((await sendRows(body.id)).map((row) => [row.channel, row.status])).toEqual([
      ["email", "failed"],
      ["sms", "failed"],
      ["webhook", "sent"],
    ]);
  });

  it("a provider 5xx is retried with exponential backoff", async () => {
    const contact = freshContact();
    const body = event("gov.revenue.payment.completed", randomCitizenId(), contact);
    await failNext("sendgrid", 503);
    const result = await deliver(body, 3);
    expect(result).toMatchObject({ acked: false, retried: true, letters: [] });
    // attempt 3 → full jitter over [1, 4] seconds
    expect(result.delaySeconds).toBeGreaterThanOrEqual(1);
    expect(result.delaySeconds).toBeLessThanOrEqual(4);
    expect(await receivedFor(contact.email)).toHaveLength(0);
  });

  it("a provider 4xx is permanent: the event is dead-lettered with the provider's answer", async () => {
    const contact = freshContact();
    const body = event("gov.revenue.refund.issued", randomCitizenId(), contact);
    await failNext("sendgrid", 400);
    const result = await deliver(body, 1);
    expect(result).toMatchObject({ acked: true, retried: false });
    expect(result.letters).toHaveLength(1);
    expect(result.letters[0]).toMatchObject({
      queue: QUEUE,
      consumer: "notifier",
      body,
      error: { code: "bad_request", reason: "permanent" },
    });
    expect(JSON.stringify(result.letters[0]?.error.details)).toContain('"status":400');
  });

  it("retries exhausted on the last delivery go to the dead-letter queue with reason exhausted", async () => {
    const contact = freshContact();
    const body = event("gov.revenue.payment.failed", randomCitizenId(), contact);
    await failNext("sendgrid", 500);
    const result = await deliver(body, 6); // MAX_RETRIES = 5: delivery 6 is the last
    expect(result).toMatchObject({ acked: true, retried: false });
    expect(result.letters[0]?.error).toMatchObject({ code: "upstream_unavailable", reason: "exhausted" });
  });

  it("takes the recipient from permits.citizen_refs when the event has no contact, in their language", async () => {
    const citizenId = randomCitizenId();
    const contact = freshContact({ name: "Élodie Martin" });
    await storeCitizen("permits", citizenId, { ...contact, language: "fr" });
    const body = event("gov.permits.application.approved", citizenId, undefined);
    expect((await deliver(body)).acked).toBe(true);
    const [email] = await receivedFor(contact.email);
    expect(email?.subject).toBe("Votre demande PA-2026-000871 est acceptée");
    expect(email?.text).toContain("Bonjour Élodie Martin,");
    expect(await receivedFor(contact.phone)).toHaveLength(1);
    expect((await sendRows(body.id)).every((row) => row.locale === "fr")).toBe(true);
  });

  it("revenue events read revenue.citizen_refs", async () => {
    const citizenId = randomCitizenId();
    const contact = freshContact();
    await storeCitizen("revenue", citizenId, contact);
    const body = event("gov.revenue.payment.completed", citizenId, undefined);
    expect((await deliver(body)).acked).toBe(true);
    expect(await receivedFor(contact.email)).toHaveLength(1);
  });

  it("sends the SMS copy only when the citizen has a phone", async () => {
    const citizenId = randomCitizenId();
    const contact = freshContact();
    await storeCitizen("permits", citizenId, { name: contact.name, email: contact.email });
    const body = event("gov.permits.application.rejected", citizenId, undefined);
    expect((await deliver(body)).acked).toBe(true);
    expect(await receivedFor(contact.email)).toHaveLength(1);
    expect((await sendRows(body.id)).map((row) => row.channel)).toEqual(["email", "webhook"]);
  });

  it("an SMS-only reminder without a phone is recorded as skipped with its reason and acked", async () => {
    const citizenId = randomCitizenId();
    await storeCitizen("permits", citizenId, { name: "No Phone", email: `np.${crypto.randomUUID()}@example.org` });
    const body = event("gov.permits.inspection.scheduled", citizenId, undefined);
    expect(await deliver(body)).toMatchObject({ acked: true, letters: [] });
    const rows = await sendRows(body.id);
    expect(rows.map((row) => [row.channel, row.status, row.skip_reason])).toEqual([
      ["sms", "skipped", "no_phone_number"],
      ["webhook", "sent", null],
    ]);
  });

  it("a deleted citizen (tombstone): recorded as skipped (no_recipient) and acked, nothing sent", async () => {
    const citizenId = randomCitizenId();
    await storeCitizen("revenue", citizenId, {}, true);
    const body = event("gov.revenue.refund.issued", citizenId, undefined);
    expect(await deliver(body)).toMatchObject({ acked: true, retried: false, letters: [] });
    const rows = await sendRows(body.id);
    expect(rows.map((row) => [row.channel, row.status, row.skip_reason, row.recipient])).toEqual([
      ["email", "skipped", "no_recipient", ""],
      ["webhook", "sent", null, `${providerUrl}/webhooks/case-system`],
    ]);
  });

  it("events without a notification rule are acked without sending", async () => {
    const body = event("gov.permits.inspection.scheduled", randomCitizenId(), freshContact());
    const unsubscribed = { ...body, type: "gov.auth.user.logged_in" };
    expect(await deliver(unsubscribed)).toMatchObject({ acked: true, letters: [] });
    expect(await sendRows(body.id)).toEqual([]);
  });

  it("a batch sends every event's notifications and writes one log line per message, with each channel's outcome", async () => {
    const contact = freshContact();
    const sent = event("gov.permits.application.approved", randomCitizenId(), contact);
    const noPhone = randomCitizenId();
    await storeCitizen("permits", noPhone, { name: "No Phone", email: `np.${crypto.randomUUID()}@example.org` });
    const skipped = event("gov.permits.inspection.scheduled", noPhone, undefined);
    const unruled = {
      ...event("gov.permits.inspection.scheduled", randomCitizenId(), freshContact()),
      type: "gov.auth.user.logged_in",
    };
    const messages = [message(sent), message(skipped), message(unruled)];
    const delivery = recordingBatch(messages);
    const lines: string[] = [];
    const spies = (["log", "info", "warn"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((line: string) => lines.push(line)),
    );
    try {
      await handleNotificationBatch(delivery.batch, recordingEnv().env);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(delivery.acked.size).toBe(3);
    expect((await sendRows(sent.id)).map((row) => [row.channel, row.status, row.attempts])).toEqual([
      ["email", "sent", 1],
      ["sms", "sent", 1],
      ["webhook", "sent", 1],
    ]);
    const records = lines.map((line) => JSON.parse(line) as { msg: string; request_id?: string; note?: string });
    const notes = messages.map((queued) => records.filter((record) => record.request_id === queued.id));
    expect(notes.map((perMessage) => perMessage.map((record) => [record.msg, record.note]))).toEqual([
      [["message handled", "email sent, sms sent, webhook sent"]],
      [["message handled", "sms skipped: no_phone_number, webhook sent"]],
      [["message handled", "no notification rule for this event type"]],
    ]);
  });

  it("a body that is not a CloudEvent is dead-lettered at once", async () => {
    const result = await deliver({ hello: "world" });
    expect(result).toMatchObject({ acked: true });
    expect(result.letters[0]?.error).toMatchObject({ code: "invalid_envelope", reason: "permanent" });
  });

  it("a missing secret keeps the messages (retry) and sends nothing", async () => {
    const contact = freshContact();
    const body = event("gov.revenue.payment.completed", randomCitizenId(), contact);
    const result = await deliver(body, 1, { SENDGRID_API_KEY: undefined });
    expect(result).toMatchObject({ acked: false, retried: true, letters: [] });
    expect(await receivedFor(contact.email)).toHaveLength(0);
  });

  it("through workerd's real queue dispatch: a 429 is retried with the provider's delay", async () => {
    const contact = freshContact();
    const body = event("gov.documents.document.verified", randomCitizenId(), contact);
    await failNext("sendgrid", 429, { retry_after: 90 });
    // As the producer sends events: their JSON text.
    const delivery = message(JSON.stringify(body));
    const result = await worker.queue(QUEUE, [delivery]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]?.delaySeconds).toBeGreaterThanOrEqual(90);
    const again = await worker.queue(QUEUE, [{ ...delivery, attempts: 2 }]);
    expect(again.explicitAcks).toEqual([delivery.id]);
    expect(await receivedFor(contact.email)).toHaveLength(1);
  });

  describe("contacts carried in an event are used only when the publishing key may (notify:direct-contact)", () => {
    const attacker = () => freshContact({ name: "Mallory", email: `mallory.${crypto.randomUUID()}@evil.example` });

    it("a permits key without the scope cannot redirect a citizen's email or SMS: they go to the directory", async () => {
      const citizenId = randomCitizenId();
      const citizen = freshContact({ name: "Amina Haddad" });
      await storeCitizen("permits", citizenId, citizen);
      const forged = attacker();
      const body = event("gov.permits.application.approved", citizenId, forged, {}, PERMITS_KEY);
      expect(await deliver(body)).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(forged.email)).toEqual([]);
      expect(await receivedFor(forged.phone)).toEqual([]);
      const [email] = await receivedFor(citizen.email);
      expect(email?.text).toContain("Dear Amina Haddad,");
      expect(email?.text).not.toContain("Mallory");
      expect(await receivedFor(citizen.phone)).toHaveLength(1);
    });

    it("an event without the stamp (published before it existed) is treated the same", async () => {
      const citizenId = randomCitizenId();
      const citizen = freshContact();
      await storeCitizen("revenue", citizenId, citizen);
      const forged = attacker();
      const body = event("gov.revenue.payment.completed", citizenId, forged, {}, null);
      expect(await deliver(body)).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(forged.email)).toEqual([]);
      expect(await receivedFor(citizen.email)).toHaveLength(1);
    });

    it("when the directory has no address for the channel the send is skipped, never sent to the event's", async () => {
      const citizenId = randomCitizenId();
      const citizen = freshContact();
      await storeCitizen("permits", citizenId, { name: citizen.name, phone: citizen.phone });
      const forged = attacker();
      const body = event("gov.permits.application.submitted", citizenId, forged, {}, PERMITS_KEY);
      expect(await deliver(body)).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(forged.email)).toEqual([]);
      expect(await receivedFor(forged.phone)).toEqual([]);
      expect(await receivedFor(citizen.phone)).toHaveLength(1);
      expect((await sendRows(body.id)).map((row) => [row.channel, row.status, row.skip_reason])).toEqual([
        ["email", "skipped", "no_email_address"],
        ["sms", "sent", null],
        ["webhook", "sent", null],
      ]);
    });

    it("a key holding the scope sends to the event's contacts", async () => {
      const citizenId = randomCitizenId();
      await storeCitizen("permits", citizenId, freshContact());
      const carried = freshContact();
      const body = event("gov.permits.application.approved", citizenId, carried);
      expect(await deliver(body)).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(carried.email)).toHaveLength(1);
    });
  });

  describe("a citizen not yet in citizen_refs", () => {
    it("is retried with backoff inside UNKNOWN_CITIZEN_RETRY_SECONDS, and sent once citizen-sync caught up", async () => {
      const citizenId = randomCitizenId();
      const body = event("gov.permits.application.approved", citizenId, undefined, {}, PERMITS_KEY);
      const first = await deliver(body, 1, { UNKNOWN_CITIZEN_RETRY_SECONDS: "600" });
      expect(first).toMatchObject({ acked: false, retried: true, letters: [] });
      expect(first.delaySeconds).toBeGreaterThanOrEqual(1);
      expect(first.delaySeconds).toBeLessThanOrEqual(600);
      // Nothing skipped for good; the webhook (no citizen address needed) went out.
      expect((await sendRows(body.id)).map((row) => [row.channel, row.status])).toEqual([["webhook", "sent"]]);

      const citizen = freshContact();
      await storeCitizen("permits", citizenId, citizen);
      const second = await deliver(body, 2, { UNKNOWN_CITIZEN_RETRY_SECONDS: "600" });
      expect(second).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(citizen.email)).toHaveLength(1);
      expect(await receivedFor(citizen.phone)).toHaveLength(1);
    });

    it("is skipped (unknown_citizen) once the window has passed, counted in a log line and a row", async () => {
      const body = event("gov.revenue.payment.completed", randomCitizenId(), undefined, {}, PERMITS_KEY);
      const lines: string[] = [];
      const spy = vi.spyOn(console, "warn").mockImplementation((line: string) => lines.push(line));
      let result: Awaited<ReturnType<typeof deliver>>;
      try {
        result = await deliver(body, 3, { UNKNOWN_CITIZEN_RETRY_SECONDS: "60" }, new Date(Date.now() - 61_000));
      } finally {
        spy.mockRestore();
      }
      expect(result).toMatchObject({ acked: true, retried: false, letters: [] });
      expect((await sendRows(body.id)).map((row) => [row.channel, row.status, row.skip_reason])).toEqual([
        ["email", "skipped", "unknown_citizen"],
        ["webhook", "sent", null],
      ]);
      const counted = lines.map((line) => JSON.parse(line)).find((line) => line.msg.includes("unknown citizen"));
      expect(counted).toMatchObject({ count: 1 });
    });

    it("is skipped rather than dead-lettered on the last delivery, even inside the window", async () => {
      const body = event("gov.revenue.refund.issued", randomCitizenId(), undefined, {}, PERMITS_KEY);
      const result = await deliver(body, 6);
      expect(result).toMatchObject({ acked: true, retried: false, letters: [] });
      expect((await sendRows(body.id)).find((row) => row.channel === "email")).toMatchObject({
        status: "skipped",
        skip_reason: "unknown_citizen",
      });
    });
  });

  describe("an unknown outcome (the provider call timed out after the request went out)", () => {
    const FAST = { PROVIDER_TIMEOUT_MS: "300", UNKNOWN_OUTCOME_VISIBILITY_SECONDS: "1" };
    const reminder = (phone: string) =>
      event("gov.permits.inspection.scheduled", randomCitizenId(), freshContact({ phone }));

    it("SMS: the provider accepted but answered too late → unknown, then found in Twilio's list: exactly one SMS", async () => {
      const phone = freshContact().phone;
      const body = reminder(phone);
      await failNext("twilio", undefined, { delay_ms: 1_500 });
      const first = await deliver(body, 1, FAST);
      expect(first).toMatchObject({ acked: false, retried: true, letters: [] });
      expect(first.delaySeconds).toBeGreaterThanOrEqual(1);
      expect((await sendRows(body.id)).find((row) => row.channel === "sms")).toMatchObject({ status: "unknown" });

      await sleep(1_100);
      const second = await deliver(body, 2, FAST);
      expect(second).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(phone)).toHaveLength(1);
      expect((await sendRows(body.id)).find((row) => row.channel === "sms")).toMatchObject({
        status: "sent",
        reconciliation: "found",
        provider_message_id: expect.stringMatching(/^SM/),
      });
    });

    it("SMS: the provider dropped the request → unknown, then no record in Twilio's list: sent exactly once more", async () => {
      const phone = freshContact().phone;
      const body = reminder(phone);
      await failNext("twilio", undefined, { drop: true, delay_ms: 1_000 });
      expect(await deliver(body, 1, FAST)).toMatchObject({ acked: false, retried: true });
      expect(await receivedFor(phone)).toHaveLength(0);
      await sleep(1_100);
      expect(await deliver(body, 2, FAST)).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(phone)).toHaveLength(1);
      expect((await sendRows(body.id)).find((row) => row.channel === "sms")).toMatchObject({
        status: "sent",
        reconciliation: "not_found",
      });
    });

    it("before the visibility window has passed a redelivery neither looks up nor sends", async () => {
      const phone = freshContact().phone;
      const body = reminder(phone);
      await failNext("twilio", undefined, { drop: true, delay_ms: 1_000 });
      const settings = { ...FAST, UNKNOWN_OUTCOME_VISIBILITY_SECONDS: "120" };
      expect(await deliver(body, 1, settings)).toMatchObject({ retried: true });
      const early = await deliver(body, 2, settings);
      expect(early).toMatchObject({ acked: false, retried: true });
      expect(early.delaySeconds).toBeGreaterThanOrEqual(100);
      expect(await receivedFor(phone)).toHaveLength(0);
    });

    const EMAIL_ACTIVITY = { ...FAST, SENDGRID_EMAIL_ACTIVITY: "true" };
    const receipt = (email: string) =>
      event("gov.revenue.payment.completed", randomCitizenId(), freshContact({ email }));

    it("email with SendGrid's Email Activity: accepted but late → found by its custom argument: exactly one email", async () => {
      const { email } = freshContact();
      const body = receipt(email);
      await failNext("sendgrid", undefined, { delay_ms: 1_500 });
      expect(await deliver(body, 1, EMAIL_ACTIVITY)).toMatchObject({ acked: false, retried: true });
      await sleep(1_100);
      expect(await deliver(body, 2, EMAIL_ACTIVITY)).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(email)).toHaveLength(1);
      expect((await sendRows(body.id)).find((row) => row.channel === "email")).toMatchObject({
        status: "sent",
        reconciliation: "found",
      });
    });

    it("email with SendGrid's Email Activity: dropped → no record: sent exactly once more", async () => {
      const { email } = freshContact();
      const body = receipt(email);
      await failNext("sendgrid", undefined, { drop: true, delay_ms: 1_000 });
      expect(await deliver(body, 1, EMAIL_ACTIVITY)).toMatchObject({ acked: false, retried: true });
      await sleep(1_100);
      expect(await deliver(body, 2, EMAIL_ACTIVITY)).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(email)).toHaveLength(1);
      expect((await sendRows(body.id)).find((row) => row.channel === "email")).toMatchObject({
        reconciliation: "not_found",
      });
    });

    it("email without a lookup, UNKNOWN_OUTCOME_POLICY=give_up: recorded unknown and acked, never sent again", async () => {
      const { email } = freshContact();
      const body = receipt(email);
      await failNext("sendgrid", undefined, { delay_ms: 1_500 });
      const settings = { ...FAST, UNKNOWN_OUTCOME_POLICY: "give_up" };
      expect(await deliver(body, 1, settings)).toMatchObject({ acked: true, retried: false, letters: [] });
      expect((await sendRows(body.id)).find((row) => row.channel === "email")).toMatchObject({
        status: "unknown",
        reconciliation: "given_up",
        reconcile_after: null,
      });
      await sleep(1_100);
      expect(await deliver(body, 2, settings)).toMatchObject({ acked: true });
      expect(await receivedFor(email)).toHaveLength(1);
    });

    it("email without a lookup, UNKNOWN_OUTCOME_POLICY=resend (default): sent again after the window", async () => {
      const { email } = freshContact();
      const body = receipt(email);
      await failNext("sendgrid", undefined, { drop: true, delay_ms: 1_000 });
      expect(await deliver(body, 1, FAST)).toMatchObject({ acked: false, retried: true });
      await sleep(1_100);
      expect(await deliver(body, 2, FAST)).toMatchObject({ acked: true, letters: [] });
      expect(await receivedFor(email)).toHaveLength(1);
      expect((await sendRows(body.id)).find((row) => row.channel === "email")).toMatchObject({
        status: "sent",
        reconciliation: "resent",
      });
    });
  });

  it("a database without the tables (code deployed before the migrations) is retried, not dead-lettered", async () => {
    const admin = openDatabase(bindings.HYPERDRIVE.connectionString);
    const name = `edgebus_unmigrated_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await admin`create database ${admin(name)}`;
    try {
      const url = new URL(bindings.HYPERDRIVE.connectionString);
      url.pathname = `/${name}`;
      const body = event("gov.revenue.payment.completed", randomCitizenId(), freshContact());
      const result = await deliver(body, 1, { HYPERDRIVE: { connectionString: url.toString() } });
      expect(result).toMatchObject({ acked: false, retried: true, letters: [] });
      expect(result.delaySeconds).toBeGreaterThanOrEqual(30);
    } finally {
      await admin`drop database if exists ${admin(name)} with (force)`;
    }
  });
});
