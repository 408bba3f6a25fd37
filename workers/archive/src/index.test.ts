import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { BatchMetrics } from "#shared/consumers/consumer-metrics.ts";
import { openDatabase } from "#shared/db/client.ts";
import { addBatchCounts } from "#shared/db/consumer-metrics-store.ts";
import { consumerMetricsTotals, metricsQueue } from "../../../test/support/consumer-metrics.ts";
import {
  queueMessage,
  queueWorker,
  recordingBatch,
  recordingDeadLetters,
} from "../../../test/support/queue-delivery.ts";
import { handleArchiveBatch, pruneExpiredEvents } from "./index.ts";

const available = inject("postgresAvailable");
const bindings = env as unknown as { HYPERDRIVE: Hyperdrive; DEAD_LETTER_QUEUE: Queue };

const worker = queueWorker(exports);

const source = `/archive-test/${crypto.randomUUID()}`;
function event(type = "gov.permits.application.submitted") {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source,
    type,
    time: "2026-11-20T10:00:00Z",
    subject: "APP-1",
    partitionkey: "APP-1",
    eventversion: 2,
    correlationid: "corr-1",
    data: { any: "thing" },
  };
}
const message = queueMessage;

describe.skipIf(!available)("archive consumer (workerd, real Postgres)", () => {
  const sql = () => openDatabase(bindings.HYPERDRIVE.connectionString);

  it("archives every event once, with its indexed attributes, through the real dispatch", async () => {
    const a = event();
    const b = event("gov.auth.citizen.created");
    // As the producer sends events (their JSON text), and b as a json body (sent before it did).
    const result = await worker.queue("archive", [message(JSON.stringify(a)), message(b), message(JSON.stringify(a))]);
    expect(result.explicitAcks).toHaveLength(3);
    await worker.queue("archive", [message(b)]);
    const rows = await sql()`
      select id, type, subject, partitionkey, time, eventversion::int as eventversion, correlationid, event
      from edgebus.event_archive where source = ${source} order by type`;
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({
      id: a.id,
      type: a.type,
      subject: "APP-1",
      partitionkey: "APP-1",
      eventversion: 2,
      correlationid: "corr-1",
      event: a,
    });
    expect(new Date(rows[1]?.time).toISOString()).toBe("2026-11-20T10:00:00.000Z");
  });

  it("dead-letters what cannot be archived and archives the rest", async () => {
    const good = event();
    const { batch, acked } = recordingBatch("archive", [
      message(good),
      message({ ...event(), time: "yesterday" }),
      message(42),
      message('{"specversion": "1.0", "id": '),
    ]);
    const { env: testEnv, letters } = recordingDeadLetters(env);
    await handleArchiveBatch(batch, testEnv);
    expect(acked.size).toBe(4);
    expect(letters.map((l) => l.error.message)).toEqual([
      "time is not a timestamp",
      "message body is not a CloudEvent object",
      "message body is not a CloudEvent object",
    ]);
    // A text body that is not JSON is dead-lettered as it arrived.
    expect(letters[2]?.body).toBe('{"specversion": "1.0", "id": ');
    expect(await sql()`select 1 from edgebus.event_archive where source = ${source} and id = ${good.id}`).toHaveLength(
      1,
    );
  });

  it("counts each batch once in edgebus.consumer_metrics: applied, duplicate, dead-lettered", async () => {
    const queue = metricsQueue("archive");
    const archivedBefore = event();
    await worker.queue("archive", [message(archivedBefore)]);
    const fresh = event();
    const result = await worker.queue(queue, [
      message(fresh),
      message(fresh),
      message(archivedBefore, 2),
      message({ not: "an event" }),
    ]);
    expect(result.explicitAcks).toHaveLength(4);
    expect(await consumerMetricsTotals(sql(), "archive", queue)).toEqual({
      applied: 1,
      // The second copy in the batch, and the event archived by an earlier batch.
      duplicate: 2,
      retried: 0,
      dead_lettered: 1,
      batches: 1,
      batch_size_sum: 4,
      event_age_count: 3,
      enqueue_age_count: 4,
    });
  });

  it("the daily job folds consumer-metrics minutes past their retention into the totals, keeping every sum", async () => {
    const consumer = `archive-retention-test-${crypto.randomUUID()}`;
    const batch = (applied: number) => {
      const metrics = new BatchMetrics(consumer, "archive", Date.now() - 100);
      for (let i = 0; i < applied; i++)
        metrics.observe({ timestamp: new Date(Date.now() - 3000), body: {} }, "applied", Date.now());
      return metrics.finish(Date.now());
    };
    for (const applied of [1, 2, 3]) await addBatchCounts(sql(), batch(applied));
    // Move the first rows back in time: 10 and 5 days old, past a 2-day retention.
    await sql()`update edgebus.consumer_metrics set minute = minute - interval '10 days' where consumer = ${consumer}`;
    await addBatchCounts(sql(), batch(4));
    await sql()`update edgebus.consumer_metrics set minute = minute - interval '5 days'
                where consumer = ${consumer} and minute > now() - interval '1 day'`;
    await addBatchCounts(sql(), batch(5));
    const before = await consumerMetricsTotals(sql(), consumer, "archive");
    expect(before).toMatchObject({ applied: 15, batches: 5, enqueue_age_count: 15 });

    const result = await pruneExpiredEvents({ ...env, CONSUMER_METRICS_RETENTION_DAYS: "2" });
    expect(result.metrics?.folded).toBeGreaterThanOrEqual(2);
    expect(await consumerMetricsTotals(sql(), consumer, "archive")).toEqual(before);
    const rows = await sql()`
      select minute = '-infinity'::timestamptz as totals, applied::int, batches::int, enqueue_age_buckets
      from edgebus.consumer_metrics where consumer = ${consumer} order by minute`;
    expect(rows.map((r) => [r.totals, r.applied, r.batches])).toEqual([
      [true, 10, 4],
      [false, 5, 1],
    ]);
    expect(rows[0]?.enqueue_age_buckets).toEqual({ "5": 10 });
    // A second run finds nothing more to fold and leaves the sums alone.
    await pruneExpiredEvents({ ...env, CONSUMER_METRICS_RETENTION_DAYS: "2" });
    expect(await consumerMetricsTotals(sql(), consumer, "archive")).toEqual(before);
  });

  it("prunes archive and ledger rows older than their retention and keeps recent ones", async () => {
    const old = event();
    const recent = event();
    await worker.queue("archive", [message(old), message(recent)]);
    await sql()`update edgebus.event_archive set archived_at = now() - interval '1000 days'
                where source = ${source} and id = ${old.id}`;
    const consumer = `archive-test-${crypto.randomUUID()}`;
    await sql()`insert into edgebus.processed_events (consumer, source, id, processed_at)
                values (${consumer}, '/s', 'old', now() - interval '400 days'), (${consumer}, '/s', 'new', now())`;
    const result = await pruneExpiredEvents({
      ...env,
      ARCHIVE_RETENTION_DAYS: "900",
      ARCHIVE_PRUNE_CHUNK: "100",
      PROCESSED_EVENTS_RETENTION_DAYS: "365",
    });
    expect(result.archive.done).toBe(true);
    expect(result.archive.deleted).toBeGreaterThanOrEqual(1);
    expect(result.ledger.deleted).toBeGreaterThanOrEqual(1);
    const left =
      await sql()`select id from edgebus.event_archive where source = ${source} and id in (${old.id}, ${recent.id})`;
    expect(left.map((r) => r.id)).toEqual([recent.id]);
    const ledger = await sql()`select id from edgebus.processed_events where consumer = ${consumer}`;
    expect(ledger.map((r) => r.id)).toEqual(["new"]);
  });
});
