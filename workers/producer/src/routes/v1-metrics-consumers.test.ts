/**
 * `GET /v1/metrics/consumers` inside workerd: who may read it (a `metrics` key or an admin key,
 * nobody else), and the Prometheus text rendered from seeded rows — consumer counts written by the
 * consumers' own writer (`addBatchCounts`, minute rows plus a folded totals row), dead letters
 * written by the dead-letter Worker's store, and the queue backlog of the runtime's bindings (here
 * Miniflare's, whose queues have no consumer in this project: always 0).
 */
import { env as workerEnv } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { BatchMetrics, type MessageOutcome } from "#shared/consumers/consumer-metrics.ts";
import { openDatabase } from "#shared/db/client.ts";
import { addBatchCounts } from "#shared/db/consumer-metrics-store.ts";
import { QUEUE_NAMES } from "#shared/names.ts";
import { type DeadLetterRecord, recordDeadLetters } from "../../../dead-letter/src/dead-letters-store.ts";
import { createProducerApp } from "../app.ts";
import { bearer, CE_JSON, type MintedKey, mintKey, structuredEvent, testEnv } from "../producer-test-harness.ts";

const available = inject("postgresAvailable");
const scraper = await mintKey({ id: "prometheus", sources: [], types: [], scopes: ["metrics"] });
const admin = await mintKey({ id: "ops-admin", sources: [], types: [], admin: true });
const publisher = await mintKey({ id: "publisher-only" });
const app = createProducerApp();
const env = testEnv([scraper, admin, publisher]);
const sql = () => openDatabase((workerEnv as unknown as { HYPERDRIVE: Hyperdrive }).HYPERDRIVE.connectionString);

async function scrape(key?: MintedKey, environment: Record<string, unknown> = env) {
  const response = await app.request("/v1/metrics/consumers", { headers: key ? bearer(key) : {} }, environment);
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
}

/** The value of the sample `name` whose labels are exactly `labels`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (JSON.stringify(Object.entries(found).sort()) === JSON.stringify(Object.entries(labels).sort()))
      return Number(match[3]);
  }
  return undefined;
}

describe.skipIf(!available)("GET /v1/metrics/consumers", () => {
  it("needs a key with the metrics scope or an admin key; the metrics key may publish nothing", async () => {
    expect((await scrape()).status).toBe(401);
    const refused = await scrape(publisher);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error).toMatchObject({
      code: "forbidden",
      message: "API key publisher-only lacks the metrics scope",
    });
    for (const key of [scraper, admin]) {
      const ok = await scrape(key);
      expect(ok.status).toBe(200);
      expect(ok.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    }
    const publish = await app.request(
      "/v1/events",
      { method: "POST", body: JSON.stringify(structuredEvent()), headers: { ...CE_JSON, ...bearer(scraper) } },
      env,
    );
    expect(publish.status).toBe(403);
  });

  it("a metrics key is refused every admin operation (403, before the request is looked at)", async () => {
    const document = (await (await app.request("/openapi.json", {}, env)).json()) as {
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    const admin = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => operation.tags?.includes("admin"))
        .map(([method]) => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, "1")] as const),
    );
    expect(admin.length).toBeGreaterThanOrEqual(5);
    for (const [method, path] of admin) {
      const response = await app.request(path, { method, headers: bearer(scraper) }, env);
      expect(response.status, `${method} ${path}`).toBe(403);
    }
  });

  it("renders the consumers' counts as cumulative totals over every minute row and the folded totals", async () => {
    const consumer = `metrics-route-test-${crypto.randomUUID()}`;
    const now = Date.now();
    const batch = (outcomes: MessageOutcome[], eventSecondsOld?: number) => {
      const metrics = new BatchMetrics(consumer, "archive", now - 200);
      const body = eventSecondsOld === undefined ? {} : { time: new Date(now - eventSecondsOld * 1000).toISOString() };
      for (const outcome of outcomes) metrics.observe({ timestamp: new Date(now - 3000), body }, outcome, now);
      return metrics.finish(now);
    };
    // A batch folded by the retention job long ago, then a batch of this minute.
    await addBatchCounts(sql(), batch(["dead_lettered"]));
    await sql()`update edgebus.consumer_metrics set minute = '-infinity' where consumer = ${consumer}`;
    await addBatchCounts(sql(), batch(["applied", "applied", "duplicate", "retried"], 40));

    const { status, text } = await scrape(scraper);
    expect(status).toBe(200);
    const labels = { consumer, queue: "archive" };
    const messages = (outcome: string) => sample(text, "edgebus_consumer_messages_total", { ...labels, outcome });
    expect(["applied", "duplicate", "retried", "dead_lettered"].map(messages)).toEqual([2, 1, 1, 1]);

    const bucket = (name: string, le: string, extra: Record<string, string> = {}) =>
      sample(text, `${name}_bucket`, { ...labels, ...extra, le });
    // Batch sizes 1 and 4: cumulative buckets.
    expect(["1", "2", "5", "100", "+Inf"].map((le) => bucket("edgebus_consumer_batch_size", le))).toEqual([
      1, 1, 2, 2, 2,
    ]);
    expect(sample(text, "edgebus_consumer_batch_size_sum", labels)).toBe(5);
    expect(sample(text, "edgebus_consumer_batch_size_count", labels)).toBe(2);
    // Each batch took 0.2 s.
    expect(["0.1", "0.25", "+Inf"].map((le) => bucket("edgebus_consumer_batch_duration_seconds", le))).toEqual([
      0, 2, 2,
    ]);
    expect(sample(text, "edgebus_consumer_batch_duration_seconds_sum", labels)).toBeCloseTo(0.4, 9);
    // since="event": the four events of the second batch, 40 s old; the first batch's body had no time.
    const event = { since: "event" };
    expect(["30", "60", "+Inf"].map((le) => bucket("edgebus_consumer_event_age_seconds", le, event))).toEqual([
      0, 4, 4,
    ]);
    expect(sample(text, "edgebus_consumer_event_age_seconds_sum", { ...labels, ...event })).toBeCloseTo(160, 6);
    expect(sample(text, "edgebus_consumer_event_age_seconds_count", { ...labels, ...event })).toBe(4);
    // since="enqueue": every message, 3 s after its enqueue.
    const enqueue = { since: "enqueue" };
    expect(["2.5", "5", "+Inf"].map((le) => bucket("edgebus_consumer_event_age_seconds", le, enqueue))).toEqual([
      0, 5, 5,
    ]);
    expect(sample(text, "edgebus_consumer_event_age_seconds_count", { ...labels, ...enqueue })).toBe(5);

    // Each family once, with its type (Prometheus refuses a family split in two).
    for (const [family, type] of [
      ["edgebus_consumer_messages_total", "counter"],
      ["edgebus_consumer_batch_size", "histogram"],
      ["edgebus_consumer_batch_duration_seconds", "histogram"],
      ["edgebus_consumer_event_age_seconds", "histogram"],
      ["edgebus_queue_backlog_messages", "gauge"],
      ["edgebus_queue_backlog_bytes", "gauge"],
      ["edgebus_queue_oldest_message_age_seconds", "gauge"],
      ["edgebus_dead_letters_pending", "gauge"],
      ["edgebus_dead_letter_oldest_pending_age_seconds", "gauge"],
      ["edgebus_dead_letters_total", "counter"],
    ]) {
      expect(text.split("\n").filter((line) => line === `# TYPE ${family} ${type}`)).toHaveLength(1);
    }
  });

  it("renders each queue's backlog as the runtime reports it (local queues without a consumer: 0)", async () => {
    const { text } = await scrape(admin);
    for (const queue of QUEUE_NAMES) {
      expect(sample(text, "edgebus_queue_backlog_messages", { queue }), queue).toBe(0);
      expect(sample(text, "edgebus_queue_backlog_bytes", { queue }), queue).toBe(0);
      expect(sample(text, "edgebus_queue_oldest_message_age_seconds", { queue }), queue).toBe(0);
    }
  });

  it("renders pending dead letters by consumer and error code, the oldest pending age and the failures stored", async () => {
    const queue = `dlq-metrics-test-${crypto.randomUUID().slice(0, 8)}`;
    const letter = (code: string | null, secondsAgo: number): DeadLetterRecord => {
      const id = crypto.randomUUID();
      return {
        queue,
        consumer: code === null ? "unknown" : "notifier",
        eventSource: "/services/metrics-test",
        eventId: id,
        eventType: "gov.auth.citizen.created",
        messageId: id,
        event: { id },
        errorCode: code,
        errorType: code === null ? null : "EdgebusError",
        errorMessage: "failed",
        errorDetails: undefined,
        failureReason: code === null ? "platform" : "exhausted",
        attempts: 6,
        failedAt: new Date(Date.now() - secondsAgo * 1000).toISOString(),
      };
    };
    const failedTwice = letter("upstream_unavailable", 600);
    const discarded = letter("upstream_unavailable", 120);
    const platform = letter(null, 3600);
    await recordDeadLetters(sql(), [failedTwice, discarded, platform]);
    await recordDeadLetters(sql(), [{ ...failedTwice, failedAt: new Date(Date.now() - 60_000).toISOString() }]);
    await sql()`update edgebus.dead_letters set status = 'discarded' where queue = ${queue} and event_id = ${discarded.eventId}`;

    const { text } = await scrape(scraper);
    const pending = (consumer: string, error_code: string) =>
      sample(text, "edgebus_dead_letters_pending", { queue, consumer, error_code });
    expect(pending("notifier", "upstream_unavailable")).toBe(1);
    expect(pending("unknown", "none")).toBe(1);
    expect(sample(text, "edgebus_dead_letters_total", { queue })).toBe(4);
    const oldest = sample(text, "edgebus_dead_letter_oldest_pending_age_seconds", { queue }) as number;
    expect(oldest).toBeGreaterThanOrEqual(3600);
    expect(oldest).toBeLessThan(3660);

    // Redriven or discarded, nothing is pending: the series stay, at 0.
    await sql()`update edgebus.dead_letters set status = 'replayed' where queue = ${queue} and status = 'pending'`;
    const after = (await scrape(scraper)).text;
    expect(
      sample(after, "edgebus_dead_letters_pending", {
        queue,
        consumer: "notifier",
        error_code: "upstream_unavailable",
      }),
    ).toBe(0);
    expect(sample(after, "edgebus_dead_letter_oldest_pending_age_seconds", { queue })).toBe(0);
    expect(sample(after, "edgebus_dead_letters_total", { queue })).toBe(4);
  });

  it("without Postgres: 503, so the scrape fails loudly instead of going quiet", async () => {
    const { status, text } = await scrape(scraper, testEnv([scraper], { HYPERDRIVE: undefined }));
    expect(status).toBe(503);
    expect(JSON.parse(text).error).toMatchObject({
      code: "upstream_unavailable",
      message: "the consumer metrics are in Postgres: bind HYPERDRIVE in wrangler.toml",
    });
  });
});
