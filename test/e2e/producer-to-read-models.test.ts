/**
 * End to end through the real stack (`npm run dev`: every Worker in one `wrangler dev`, the local
 * notification provider, the bridge over real Kafka and Redis, the test Postgres): events
 * published through the producer API in every envelope mode (structured, binary, legacy, batch)
 * end up where DESIGN says they must —
 *
 * - `permits.citizen_refs` and `revenue.citizen_refs` on the newest version although v3 arrives
 *   before v2, a verification on top, a deleted citizen as a tombstone;
 * - `edgebus.processed_events` (both citizen-sync consumers), `edgebus.event_archive` (every
 *   event once, attributes as published);
 * - `edgebus.notifications` and the provider's received requests: SendGrid and Twilio requests
 *   with the exact fields, one accepted request per idempotency key, recipients looked up in the
 *   read models (the SMS goes to the citizen's newest phone, the receipt to the newest email);
 * - a poison event (a verification of a citizen who never registered) in `edgebus.dead_letters`;
 * - with Kafka: each event exactly once in its topic from the producer (at the receipt's offset),
 *   and at least once in `onprem.<topic>` from the kafka-mirror Worker through the bridge's mirror
 *   ingest (`npm run dev` renames the mirror's copies: one cluster stands for both paths);
 * - the consumers' metrics, read back from `GET /v1/metrics/consumers` with a metrics-only key:
 *   what this run's events added (applied, retried and dead-lettered by the poison, duplicates
 *   from replaying the run's citizen events, batches, event ages), the dead-letter gauges, every
 *   queue's backlog as local emulation reports it; and `GET /readyz` on the same stack.
 *
 * Postgres, Kafka and Redis are required under CI=true; locally a missing Kafka or Redis runs
 * the stack without them and skips the Kafka check.
 */
import { spawnSync } from "node:child_process";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../schemas/index.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import type { Receipt } from "../../workers/producer/src/api-schemas.ts";
import { generateApiKey, hashApiKey } from "../../workers/producer/src/auth/key-hash.ts";
import { randomCitizenId } from "../support/migrated-database.ts";
import { requireService } from "../support/services.ts";
import { eventually, useDevStack } from "./dev-stack-process.ts";

const SUITE = "producer → read models (npm run dev)";
const postgresUp = await requireService("postgres", SUITE);
const kafkaUp = await requireService("kafka", SUITE);
const redisUp = await requireService("redis", SUITE);

/**
 * This suite's ports, below Linux's ephemeral range (32768–60999): a fixed port inside it can be
 * taken for a moment as the source port of any outgoing connection on the machine (EADDRINUSE).
 */
const PORTS = { port: 26787, bridgePort: 26788, providerPort: 26790 };
const SETTLE_MS = 60_000;
/** The poison is retried MAX_RETRIES (5) times with jittered backoff (≤ 1+2+4+8+16 s) first. */
const DEAD_LETTER_MS = 90_000;

const run = crypto.randomUUID().slice(0, 8);
const digits = (n: number) => String(Math.floor(Math.random() * 10 ** n)).padStart(n, "0");
const example = (type: string) => structuredClone(governmentCatalogue.require(type).example) as Record<string, unknown>;

type Json = Record<string, unknown>;
/** The Prometheus scraper's key: the metrics scope, nothing to publish (as `scripts/api-key.ts --metrics` mints it). */
const metricsKey = generateApiKey();
const metricsKeyEntry = {
  id: "e2e-prometheus",
  hash: await hashApiKey(metricsKey),
  sources: [],
  types: [],
  scopes: ["metrics"],
};

/** Every sample of a Prometheus text, by `name{sorted labels}`. */
function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map((m) => `${m[1]}=${m[2]}`)
      .sort()
      .join(",");
    samples.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return samples;
}
const series = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(",")}}`;

const amina = randomCitizenId();
const ghost = randomCitizenId();
const brendan = randomCitizenId();
const address = (line1: string, city: string, postal_code: string) => ({ line1, city, postal_code, country: "IE" });
const snapshot = {
  v1: {
    id: amina,
    name: "Amina Haddad",
    email: `amina.${run}@example.org`,
    phone: "+35312345678",
    address: address("12 Harbour Road", "Dublin", "D02 X285"),
    email_verified: true,
    identity_verified: false,
    created_at: "2026-03-14T09:21:07Z",
    preferred_language: "en",
  },
  v2: { email: `amina.v2.${run}@example.org`, phone: "+35312345679" },
  v3: {
    email: `amina.${run}@haddad.ie`,
    phone: "+353871234567",
    address: address("7 Quay Street", "Galway", "H91 K2P4"),
  },
};
const applicationId = `PA-2026-${digits(6)}`;
const paymentId = `PAY-2026-${digits(8)}`;
const receiptNumber = `RCP-2026-${digits(8)}`;

describe.runIf(postgresUp)("producer API → queues → consumers → read models, notifications, archive, Kafka", () => {
  const dev = useDevStack(() => ({
    ...PORTS,
    env: {
      DATABASE_URL: serviceUrls.postgres,
      EDGEBUS_DEV_API_KEY: `ebk_e2e_${crypto.randomUUID().replaceAll("-", "")}`,
      EDGEBUS_DEV_EXTRA_API_KEYS: JSON.stringify([metricsKeyEntry]),
      ...(kafkaUp ? { KAFKA_BROKERS: serviceUrls.kafkaBrokers.join(",") } : {}),
      ...(redisUp ? { REDIS_URL: serviceUrls.redis } : {}),
    },
  }));
  let sql: postgres.Sql;
  const receipts = new Map<string, Receipt>();
  const ids = {
    created: `created-${run}`,
    updatedV3: `updated-v3-${run}`,
    updatedV2: `updated-v2-${run}`,
    verified: `verified-${run}`,
    brendanCreated: `brendan-created-${run}`,
    brendanDeleted: `brendan-deleted-${run}`,
    poison: `poison-${run}`,
    submitted: `submitted-${run}`,
    paid: `paid-${run}`,
  };

  async function post(path: string, body: unknown, contentType: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${dev.stack.info.producer}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${dev.stack.info.apiKey}`, "content-type": contentType, ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Json };
  }

  /** Publishes one event and keeps its receipt (202 accepted expected). */
  async function publish(path: string, body: unknown, contentType: string, headers: Record<string, string> = {}) {
    const { status, json } = await post(path, body, contentType, headers);
    expect(status, JSON.stringify(json)).toBe(202);
    expect(json.status).toBe("accepted");
    receipts.set(json.id as string, json as unknown as Receipt);
  }

  function structured(id: string, type: string, data: unknown, extra: Json = {}): Json {
    return { specversion: "1.0", id, source: "/services/identity", type, ...extra, data };
  }

  /** Kafka timestamps of this run's records are not older than this (mirror topic offsets by time). */
  const runStartedMs = Date.now();

  let lastScrape = "";
  async function scrapeConsumers(): Promise<Map<string, number>> {
    const response = await fetch(`${dev.stack.info.producer}/v1/metrics/consumers`, {
      headers: { authorization: `Bearer ${metricsKey}` },
    });
    expect(response.status).toBe(200);
    lastScrape = await response.text();
    return parseSamples(lastScrape);
  }
  /** The consumer metrics before this run published anything (the database is shared). */
  let baseline: Map<string, number>;

  beforeAll(async () => {
    sql = postgres(serviceUrls.postgres, { max: 2, onnotice: () => {} });
    baseline = await scrapeConsumers();
  });

  afterAll(async () => {
    await sql?.end({ timeout: 5 });
  });

  it("publishes in every envelope mode; read models, ledger, archive, notifications, provider and dead letters agree", async () => {
    // The poison first: its retries take longest.
    await publish(
      "/v1/events",
      structured(
        ids.poison,
        "gov.auth.citizen.verified",
        { ...example("gov.auth.citizen.verified"), id: ghost },
        { eventversion: 1 },
      ),
      "application/cloudevents+json",
    );
    // v1, structured.
    await publish(
      "/v1/events",
      structured(ids.created, "gov.auth.citizen.created", snapshot.v1, {
        eventversion: 1,
        correlationid: `signup-${run}`,
      }),
      "application/cloudevents+json",
    );
    // v3 before v2, binary mode: attributes as ce-* headers, data as the body.
    await publish(
      "/v1/events",
      {
        ...snapshot.v1,
        ...snapshot.v3,
        updated_at: "2026-05-02T16:40:00+01:00",
        changes: { address: { old: "12 Harbour Road, Dublin", new: "7 Quay Street, Galway" } },
      },
      "application/json",
      {
        "ce-specversion": "1.0",
        "ce-id": ids.updatedV3,
        "ce-source": "/services/identity",
        "ce-type": "gov.auth.citizen.updated",
        "ce-eventversion": "3",
      },
    );
    // v2 arrives late, as the legacy envelope.
    await publish(
      "/v1/events",
      {
        event_id: ids.updatedV2,
        event_type: "gov.auth.citizen.updated",
        event_version: 2,
        timestamp: "2026-04-01T10:00:00Z",
        correlation_id: `profile-${run}`,
        source: { service: "/services/identity", instance: "identity-7", version: "2.4.1" },
        data: {
          ...snapshot.v1,
          ...snapshot.v2,
          updated_at: "2026-04-01T10:00:00Z",
          changes: { email: { old: snapshot.v1.email, new: snapshot.v2.email } },
        },
      },
      "application/json",
    );
    // A batch: another citizen registered and deleted, and Amina's phone verified (v4).
    const batch = await post(
      "/v1/events/batch",
      [
        structured(
          ids.brendanCreated,
          "gov.auth.citizen.created",
          { ...snapshot.v1, id: brendan, name: "Brendan Walsh", email: `brendan.${run}@example.org` },
          { eventversion: 1 },
        ),
        structured(
          ids.brendanDeleted,
          "gov.auth.citizen.deleted",
          { ...example("gov.auth.citizen.deleted"), id: brendan },
          { eventversion: 2 },
        ),
        structured(
          ids.verified,
          "gov.auth.citizen.verified",
          {
            ...example("gov.auth.citizen.verified"),
            id: amina,
            verification_type: "phone",
            verification_method: "sms_code",
            document_reference: null,
          },
          { eventversion: 4 },
        ),
      ],
      "application/cloudevents-batch+json",
    );
    expect(batch.status, JSON.stringify(batch.json)).toBe(200);
    expect(batch.json).toMatchObject({ accepted: 3, duplicate: 0, rejected: 0 });
    for (const result of batch.json.results as { receipt: Receipt }[]) receipts.set(result.receipt.id, result.receipt);

    // Both read models on the newest snapshot (v3), the verification (v4) on top.
    const refs = await eventually(
      "Amina on v4 (snapshot v3) and Brendan's tombstone in both citizen_refs",
      async () => {
        const rows = await sql<Json[]>`
          select 'permits' as schema, c.* from permits.citizen_refs c where citizen_id in (${amina}, ${brendan})
          union all
          select 'revenue', c.* from revenue.citizen_refs c where citizen_id in (${amina}, ${brendan})
          order by 1, citizen_id`;
        const settled = rows.filter(
          (row) =>
            (Number(row.citizen_id) === amina && Number(row.event_version) === 4) ||
            (Number(row.citizen_id) === brendan && row.deleted_at !== null),
        );
        return settled.length === 4 ? rows : undefined;
      },
      { timeoutMs: SETTLE_MS },
    );
    for (const schema of ["permits", "revenue"]) {
      const row = refs.find((r) => r.schema === schema && Number(r.citizen_id) === amina);
      expect(row, schema).toMatchObject({
        name: "Amina Haddad",
        email: snapshot.v3.email,
        phone: snapshot.v3.phone,
        address: snapshot.v3.address,
        preferred_language: "en",
        email_verified: true,
        phone_verified: true,
        identity_verified: false,
        last_event_id: ids.verified,
        last_event_source: "/services/identity",
        deleted_at: null,
      });
      expect(Number(row?.snapshot_version), schema).toBe(3);
      const tombstone = refs.find((r) => r.schema === schema && Number(r.citizen_id) === brendan);
      expect(tombstone, schema).toMatchObject({
        name: null,
        email: null,
        phone: null,
        address: null,
        last_event_id: ids.brendanDeleted,
      });
      expect(Number(tombstone?.event_version), schema).toBe(2);
    }

    // Now that both read models know Amina: a permit application (the SMS number comes from
    // permits.citizen_refs) and a payment (the receipt address from revenue.citizen_refs).
    await publish(
      "/v1/events",
      {
        specversion: "1.0",
        id: ids.submitted,
        source: "/services/permits",
        type: "gov.permits.application.submitted",
        data: {
          ...example("gov.permits.application.submitted"),
          application_id: applicationId,
          citizen_id: amina,
          applicant: { name: "Amina Haddad", email: snapshot.v3.email },
        },
      },
      "application/cloudevents+json",
    );
    const { payer: _payer, ...payment } = example("gov.revenue.payment.completed");
    await publish(
      "/v1/events",
      {
        event_id: ids.paid,
        event_type: "gov.revenue.payment.completed",
        source: "/services/revenue",
        data: {
          ...payment,
          payment_id: paymentId,
          receipt_number: receiptNumber,
          citizen_id: amina,
          reference: { kind: "permit_application", id: applicationId },
        },
      },
      "application/json",
    );

    // Notifications: welcome (email + webhook), application (email, SMS, webhook), receipt (email, webhook).
    const notificationEvents = [ids.created, ids.submitted, ids.paid];
    const notifications = await eventually(
      "7 notifications sent",
      async () => {
        const rows = await sql<Json[]>`
          select event_id, event_type, channel, recipient, template, idempotency_key, provider, provider_message_id, status, attempts
          from edgebus.notifications where event_id in ${sql(notificationEvents)} order by event_id, channel`;
        return rows.length === 7 && rows.every((row) => row.status === "sent") ? rows : undefined;
      },
      { timeoutMs: SETTLE_MS },
    );
    const byKey = (eventId: string, channel: string) => {
      const row = notifications.find((n) => n.event_id === eventId && n.channel === channel);
      expect(row, `${eventId} ${channel}`).toBeDefined();
      return row as Json;
    };
    expect(byKey(ids.created, "email")).toMatchObject({
      recipient: snapshot.v1.email,
      template: "citizen_welcome",
      provider: "sendgrid",
    });
    expect(byKey(ids.submitted, "email")).toMatchObject({
      recipient: snapshot.v3.email,
      template: "permit_application_submitted",
    });
    expect(byKey(ids.submitted, "sms")).toMatchObject({ recipient: snapshot.v3.phone, provider: "twilio" });
    expect(byKey(ids.paid, "email")).toMatchObject({ recipient: snapshot.v3.email, template: "payment_receipt" });
    for (const eventId of notificationEvents)
      expect(byKey(eventId, "webhook").recipient).toMatch(/\/webhooks\/case-management$/);

    // The provider received exactly one accepted request per idempotency key, with the fields
    // SendGrid and Twilio expect.
    const inbox = (await (await fetch(`${dev.stack.info.providerUrl}/inbox`)).json()) as { messages: Json[] };
    const keys = new Set(notifications.map((n) => n.idempotency_key as string));
    const received = inbox.messages.filter((m) => m.accepted && keys.has(m.idempotency_key as string));
    expect(received).toHaveLength(7);
    expect(new Set(received.map((m) => m.idempotency_key)).size).toBe(7);
    expect(received.every((m) => m.duplicate === false)).toBe(true);
    const sent = (eventId: string, channel: string) => {
      const row = byKey(eventId, channel);
      const message = received.find((m) => m.idempotency_key === row.idempotency_key) as Json;
      expect(message.provider_message_id).toBe(row.provider_message_id);
      return message;
    };
    const welcome = sent(ids.created, "email");
    expect(welcome).toMatchObject({
      route: "sendgrid",
      status: 202,
      to: [snapshot.v1.email],
      from: "noreply@council.example.gov",
      subject: "Welcome to your citizen account",
    });
    expect(welcome.payload).toEqual({
      personalizations: [{ to: [{ email: snapshot.v1.email, name: "Amina Haddad" }] }],
      from: { email: "noreply@council.example.gov", name: "Council services" },
      subject: "Welcome to your citizen account",
      content: [
        { type: "text/plain", value: welcome.text },
        { type: "text/html", value: welcome.html },
      ],
      custom_args: { idempotency_key: byKey(ids.created, "email").idempotency_key },
    });
    expect(welcome.text).toContain("Dear Amina Haddad");
    expect(sent(ids.submitted, "email")).toMatchObject({
      to: [snapshot.v3.email],
      subject: `We received your application ${applicationId}`,
    });
    const sms = sent(ids.submitted, "sms");
    expect(sms).toMatchObject({ route: "twilio", status: 201, to: [snapshot.v3.phone], from: "+15005550006" });
    expect(sms.text).toContain(applicationId);
    expect(sms.provider_message_id).toMatch(/^SM[0-9a-f]{32}$/);
    expect(sms.segments).toBeGreaterThanOrEqual(1);
    const receipt = sent(ids.paid, "email");
    expect(receipt.to).toEqual([snapshot.v3.email]);
    expect(receipt.subject).toBe(`Receipt ${receiptNumber} for your payment of €250.00`);
    const hook = sent(ids.submitted, "webhook");
    expect(hook).toMatchObject({
      route: "webhook",
      status: 204,
      webhook_path: "/webhooks/case-management",
      subject: "gov.permits.application.submitted",
    });

    // Every citizen event once in both citizen-sync ledgers (stale v2 included).
    const citizenEvents = [
      ids.created,
      ids.updatedV3,
      ids.updatedV2,
      ids.verified,
      ids.brendanCreated,
      ids.brendanDeleted,
    ];
    const ledger = await sql<{ consumer: string; id: string }[]>`
      select consumer, id from edgebus.processed_events
      where source = '/services/identity' and id in ${sql(citizenEvents)} order by consumer, id`;
    for (const consumer of ["citizen-sync:permits", "citizen-sync:revenue"]) {
      expect(
        ledger
          .filter((row) => row.consumer === consumer)
          .map((row) => row.id)
          .sort(),
        consumer,
      ).toEqual([...citizenEvents].sort());
    }

    // Every accepted event archived once, as normalised by the producer.
    const published = [...receipts.keys()];
    const archived = await eventually(
      "every event in edgebus.event_archive",
      async () => {
        const rows = await sql<Json[]>`
          select source, id, type, subject, partitionkey, eventversion, correlationid, event
          from edgebus.event_archive where id in ${sql(published)} order by id`;
        return rows.length === published.length ? rows : undefined;
      },
      { timeoutMs: SETTLE_MS },
    );
    const archivedEvent = (id: string) => archived.find((row) => row.id === id) as Json;
    expect(archivedEvent(ids.updatedV3)).toMatchObject({
      type: "gov.auth.citizen.updated",
      subject: String(amina),
      partitionkey: String(amina),
    });
    expect(Number(archivedEvent(ids.updatedV3).eventversion)).toBe(3);
    // The legacy envelope mapped to CloudEvents: service → source, instance/version → extensions.
    expect(archivedEvent(ids.updatedV2)).toMatchObject({
      source: "/services/identity",
      correlationid: `profile-${run}`,
    });
    expect(archivedEvent(ids.updatedV2).event).toMatchObject({
      specversion: "1.0",
      eventversion: 2,
      sourceinstance: "identity-7",
      sourceversion: "2.4.1",
    });
    expect(Date.parse(String((archivedEvent(ids.updatedV2).event as Json).time))).toBe(
      Date.parse("2026-04-01T10:00:00Z"),
    );
    expect(archivedEvent(ids.created).correlationid).toBe(`signup-${run}`);
    expect(archivedEvent(ids.submitted)).toMatchObject({ source: "/services/permits", partitionkey: applicationId });

    // The poison: both citizen-sync consumers gave up on it after their retries.
    const deadLetters = await eventually(
      "the poison event in edgebus.dead_letters from both citizen-sync consumers",
      async () => {
        const rows = await sql<Json[]>`
          select queue, consumer, event_type, error_code, error_message, failure_reason, attempts, event
          from edgebus.dead_letters where event_id = ${ids.poison} order by queue`;
        return rows.length === 2 ? rows : undefined;
      },
      { timeoutMs: DEAD_LETTER_MS, intervalMs: 1000 },
    );
    expect(deadLetters.map((row) => [row.queue, row.consumer])).toEqual([
      ["permits-citizen-sync", "citizen-sync:permits"],
      ["revenue-citizen-sync", "citizen-sync:revenue"],
    ]);
    for (const row of deadLetters) {
      expect(row).toMatchObject({
        event_type: "gov.auth.citizen.verified",
        error_code: "conflict",
        failure_reason: "exhausted",
      });
      expect(row.error_message).toContain("does not know");
      expect(row.event).toMatchObject({ id: ids.poison, data: { id: ghost } });
    }
    // Nothing else of this run was dead-lettered.
    const others =
      await sql`select event_id from edgebus.dead_letters where event_id in ${sql(published.filter((id) => id !== ids.poison))}`;
    expect(others).toHaveLength(0);
  }, 240_000);

  it("the consumers' metrics, scraped from GET /v1/metrics/consumers, count what this run caused", async () => {
    // Replaying the run's citizen events into permits-citizen-sync makes duplicates there (its ledger knows them).
    const replay = await fetch(`${dev.stack.info.producer}/v1/replay`, {
      method: "POST",
      headers: { authorization: `Bearer ${dev.stack.info.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        type: "gov.auth.citizen.*",
        from: new Date(runStartedMs - 1000).toISOString(),
        to: new Date(Date.now() + 1000).toISOString(),
        queue: "permits-citizen-sync",
      }),
    });
    expect(replay.status, await replay.clone().text()).toBe(202);
    const delta = (samples: Map<string, number>, name: string, labels: Record<string, string>) =>
      (samples.get(series(name, labels)) ?? 0) - (baseline.get(series(name, labels)) ?? 0);
    const messages = (samples: Map<string, number>, consumer: string, queue: string, outcome: string) =>
      delta(samples, "edgebus_consumer_messages_total", { consumer, queue, outcome });
    // Published after runStartedMs with time = receipt time: created, v3, verified, Brendan's two (v2's time is April).
    const replayed = 5;
    const samples = await eventually(
      "the run's counts in GET /v1/metrics/consumers",
      async () => {
        const now = await scrapeConsumers();
        const mirrored = dev.stack.info.bridge?.mirrorSecret
          ? messages(now, "kafka-mirror", "kafka-mirror", "applied") >= receipts.size
          : true;
        return mirrored && messages(now, "citizen-sync:permits", "permits-citizen-sync", "duplicate") >= replayed
          ? now
          : undefined;
      },
      { timeoutMs: SETTLE_MS, intervalMs: 1000 },
    );

    for (const [consumer, queue] of [
      ["citizen-sync:permits", "permits-citizen-sync"],
      ["citizen-sync:revenue", "revenue-citizen-sync"],
    ] as const) {
      // Six citizen events (the stale v2 counts as applied); the poison retried 5 times, then dead-lettered.
      expect(messages(samples, consumer, queue, "applied"), consumer).toBeGreaterThanOrEqual(6);
      expect(messages(samples, consumer, queue, "retried"), consumer).toBeGreaterThanOrEqual(5);
      expect(messages(samples, consumer, queue, "dead_lettered"), consumer).toBeGreaterThanOrEqual(1);
      const labels = { consumer, queue };
      expect(delta(samples, "edgebus_consumer_batch_size_count", labels), consumer).toBeGreaterThanOrEqual(1);
      expect(delta(samples, "edgebus_consumer_batch_size_sum", labels), consumer).toBeGreaterThanOrEqual(12);
      expect(delta(samples, "edgebus_consumer_batch_duration_seconds_count", labels), consumer).toBeGreaterThanOrEqual(
        1,
      );
      for (const since of ["event", "enqueue"]) {
        const count = delta(samples, "edgebus_consumer_event_age_seconds_count", { ...labels, since });
        expect(count, `${consumer} since=${since}`).toBeGreaterThanOrEqual(12);
        const inf = delta(samples, "edgebus_consumer_event_age_seconds_bucket", { ...labels, since, le: "+Inf" });
        expect(inf, `${consumer} since=${since} +Inf`).toBe(count);
      }
    }
    expect(messages(samples, "citizen-sync:permits", "permits-citizen-sync", "duplicate")).toBeGreaterThanOrEqual(
      replayed,
    );
    expect(messages(samples, "notifier", "notifications", "applied")).toBeGreaterThanOrEqual(3);
    expect(messages(samples, "archive", "archive", "applied")).toBeGreaterThanOrEqual(receipts.size);
    // The dead-letter Worker stored the poison from both citizen-sync queues.
    for (const queue of ["permits-citizen-sync", "revenue-citizen-sync"]) {
      expect(messages(samples, "dead-letter", `${queue}-dlq`, "applied"), queue).toBeGreaterThanOrEqual(1);
      expect(delta(samples, "edgebus_dead_letters_total", { queue }), queue).toBeGreaterThanOrEqual(1);
      const consumer = queue === "permits-citizen-sync" ? "citizen-sync:permits" : "citizen-sync:revenue";
      expect(
        samples.get(series("edgebus_dead_letters_pending", { queue, consumer, error_code: "conflict" })),
        queue,
      ).toBeGreaterThanOrEqual(1);
      expect(
        samples.get(series("edgebus_dead_letter_oldest_pending_age_seconds", { queue })),
        queue,
      ).toBeGreaterThanOrEqual(0);
    }
    // Every queue's backlog, as the local queue broker reports it (drained: the consumers keep up).
    for (const queue of ["permits-citizen-sync", "revenue-citizen-sync", "notifications", "kafka-mirror", "archive"]) {
      expect(samples.get(series("edgebus_queue_backlog_messages", { queue })), queue).toBeGreaterThanOrEqual(0);
      expect(samples.get(series("edgebus_queue_backlog_bytes", { queue })), queue).toBeGreaterThanOrEqual(0);
      expect(samples.get(series("edgebus_queue_oldest_message_age_seconds", { queue })), queue).toBeGreaterThanOrEqual(
        0,
      );
    }

    // Prometheus' own parser and linter accept the text (where promtool is installed; CI has it).
    const promtool = spawnSync("promtool", ["check", "metrics"], { input: lastScrape, encoding: "utf8" });
    if (promtool.error === undefined) expect(promtool.status, `${promtool.stdout}${promtool.stderr}`).toBe(0);

    // The metrics key reads metrics and nothing else.
    const refused = await post(
      "/v1/events",
      structured(`metrics-key-${run}`, "gov.auth.citizen.created", snapshot.v1),
      "application/cloudevents+json",
      {
        authorization: `Bearer ${metricsKey}`,
      },
    );
    expect(refused.status).toBe(403);

    const ready = await fetch(`${dev.stack.info.producer}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { redis: redisUp ? "ok" : "not_configured", kafka: kafkaUp ? "ok" : "not_configured" },
    });
  }, 90_000);

  it.runIf(kafkaUp && redisUp)(
    "with Kafka: each event once in its topic from the producer (receipt offset), and in onprem.* from the kafka-mirror Worker",
    async () => {
      const bridge = dev.stack.info.bridge;
      expect(bridge?.kafkaRest).toBeDefined();
      const health = (await (await fetch(`${dev.stack.info.producer}/healthz`)).json()) as Json;
      expect(health).toMatchObject({ dedup: "redis", rate_limit: "redis", kafka: true });
      const auth = `Basic ${btoa(`${bridge?.kafkaRest?.username}:${bridge?.kafkaRest?.password}`)}`;
      const citizenEvents = [ids.created, ids.updatedV3, ids.updatedV2, ids.verified];
      for (const id of citizenEvents) {
        const receipt = receipts.get(id);
        expect(receipt?.kafka, id).toMatchObject({ topic: "gov.auth.citizen" });
      }
      const partition = receipts.get(ids.created)?.kafka?.partition as number;
      // One citizen's events share a partition (record key = partitionkey = citizen id).
      expect(new Set(citizenEvents.map((id) => receipts.get(id)?.kafka?.partition))).toEqual(new Set([partition]));
      const firstOffset = Math.min(...citizenEvents.map((id) => receipts.get(id)?.kafka?.offset as number));

      type KafkaRecord = {
        partition: number;
        offset: number;
        key: string;
        value: string;
        headers: { key: string; value: string }[];
      };
      const header = (record: KafkaRecord, name: string) => record.headers.find((h) => h.key === name)?.value;
      const kafka = async (path: string, body?: unknown) => {
        const response = await fetch(`${bridge?.url}/kafka${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: { authorization: auth, "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        expect(response.status, path).toBe(200);
        return response.json() as Promise<unknown>;
      };
      /** This run's citizen records in one partition of `topic`, from `offset` to the end. */
      const readOurs = async (topic: string, partition: number, from: number) => {
        const all: KafkaRecord[] = [];
        let offset = from;
        for (;;) {
          const page = (await kafka("/fetch", { topic, partition, offset, timeout: 500 })) as KafkaRecord[];
          if (page.length === 0) break;
          all.push(...page);
          offset = Math.max(...page.map((r) => r.offset)) + 1;
        }
        return all.filter((r) => citizenEvents.includes(header(r, "ce_id") ?? ""));
      };
      const expectCitizenRecord = (record: KafkaRecord, receipt: Receipt) => {
        expect(record.key).toBe(String(amina));
        expect(header(record, "ce_type")).toBe(receipt.type);
        expect(header(record, "ce_source")).toBe("/services/identity");
        expect(header(record, "content-type")).toBe("application/json");
        expect((JSON.parse(record.value) as Json).id).toBe(amina);
      };

      // The edge path: the producer's own publish, exactly once per event, at the receipt's offset.
      const published = await readOurs("gov.auth.citizen", partition, firstOffset);
      for (const id of citizenEvents) {
        const receipt = receipts.get(id) as Receipt;
        const copies = published.filter((r) => header(r, "ce_id") === id);
        expect(
          copies.map((r) => r.offset),
          id,
        ).toEqual([receipt.kafka?.offset]);
        for (const record of copies) expectCitizenRecord(record, receipt);
      }

      // The on-prem path: the kafka-mirror Worker's copy through the bridge's mirror ingest, which
      // `npm run dev` renames to onprem.gov.* (one cluster stands for both here). At least once.
      const mirrorTopic = "onprem.gov.auth.citizen";
      const records = await eventually(
        `every citizen event in ${mirrorTopic} (kafka-mirror Worker)`,
        async () => {
          const topics = (await kafka("/topics")) as Record<string, number>;
          const partitions = topics[mirrorTopic];
          if (partitions === undefined) return undefined;
          const starts = (await kafka(
            `/offsets/${runStartedMs}`,
            Array.from({ length: partitions }, (_, p) => ({ topic: mirrorTopic, partition: p })),
          )) as { partition: number; offset: number }[];
          const found: KafkaRecord[] = [];
          for (const { partition: p, offset } of starts) {
            if (offset >= 0) found.push(...(await readOurs(mirrorTopic, p, offset)));
          }
          const seen = new Set(found.map((r) => header(r, "ce_id")));
          return citizenEvents.every((id) => seen.has(id)) ? found : undefined;
        },
        { timeoutMs: SETTLE_MS, intervalMs: 1000 },
      );
      // One key, one partition: the mirror keeps the citizen's events together too.
      expect(new Set(records.map((r) => r.key))).toEqual(new Set([String(amina)]));
      expect(new Set(records.map((r) => r.partition)).size).toBe(1);
      for (const record of records) {
        expectCitizenRecord(record, receipts.get(header(record, "ce_id") ?? "") as Receipt);
      }
      const v3 = records.filter((r) => header(r, "ce_id") === ids.updatedV3);
      expect(new Set(v3.map((r) => header(r, "ce_eventversion")))).toEqual(new Set(["3"]));
    },
    90_000,
  );
});
