import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratedTestDatabase } from "../../../test/support/migrated-database.ts";
import { BatchMetrics } from "../consumers/consumer-metrics.ts";
import { postgresConsumerMetrics } from "./consumer-metrics-store.ts";

const db = await migratedTestDatabase("shared/src/db/consumer-metrics-store");

describe.runIf(db)("edgebus.consumer_metrics writer (real Postgres)", () => {
  let sql: postgres.Sql;
  beforeAll(() => {
    sql = db as postgres.Sql;
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
  });

  const now = Date.now();
  function batch(
    consumer: string,
    queue: string,
    outcomes: ("applied" | "duplicate" | "retried")[],
    ageSeconds: number,
  ) {
    const metrics = new BatchMetrics(consumer, queue, now - 120);
    for (const outcome of outcomes)
      metrics.observe(
        {
          timestamp: new Date(now - ageSeconds * 1000),
          body: { time: new Date(now - 2 * ageSeconds * 1000).toISOString() },
        },
        outcome,
        now,
      );
    return metrics.finish(now);
  }

  it("adds each batch to the row of its consumer, queue and minute in one statement, merging the buckets", async () => {
    const consumer = `store-test-${crypto.randomUUID()}`;
    const sink = postgresConsumerMetrics(sql);
    await sink.add(batch(consumer, "archive", ["applied", "applied", "duplicate"], 1));
    await sink.add(batch(consumer, "archive", ["retried"], 20));
    await sink.add(batch(consumer, "archive-dlq", ["applied"], 1));
    const rows = await sql`
      select queue, applied::int, duplicate::int, retried::int, dead_lettered::int, batches::int, batch_size_sum,
             batch_size_buckets, batch_seconds_buckets, event_age_count::int, event_age_buckets,
             enqueue_age_count::int, enqueue_age_sum, enqueue_age_buckets, minute
      from edgebus.consumer_metrics where consumer = ${consumer} order by queue`;
    // Both batches of one queue landed in one row (unless a minute boundary fell between them).
    const archive = rows.filter((row) => row.queue === "archive");
    const sum = (name: string) => archive.reduce((total, row) => total + Number(row[name]), 0);
    expect(archive.length).toBeLessThanOrEqual(2);
    expect([sum("applied"), sum("duplicate"), sum("retried"), sum("dead_lettered"), sum("batches")]).toEqual([
      2, 1, 1, 0, 2,
    ]);
    expect(sum("batch_size_sum")).toBe(4);
    expect(sum("enqueue_age_count")).toBe(4);
    expect(sum("enqueue_age_sum")).toBeCloseTo(23, 5);
    if (archive.length === 1) {
      expect(archive[0]?.batch_size_buckets).toEqual({ "1": 1, "5": 1 });
      expect(archive[0]?.enqueue_age_buckets).toEqual({ "1": 3, "30": 1 });
      expect(archive[0]?.event_age_buckets).toEqual({ "2.5": 3, "60": 1 });
      expect(archive[0]?.batch_seconds_buckets).toEqual({ "0.25": 2 });
      expect(new Date(archive[0]?.minute).getUTCSeconds()).toBe(0);
    }
    expect(rows.find((row) => row.queue === "archive-dlq")).toMatchObject({ applied: 1, batches: 1 });
  });

  it("reports a failed write as an EdgebusError without the statement's values", async () => {
    const sink = postgresConsumerMetrics(sql);
    const counts = batch("x", "y", ["applied"], 1);
    // A NUL cannot be stored in text: Postgres refuses the statement (22021).
    await expect(sink.add({ ...counts, consumer: "bad\u0000consumer" })).rejects.toMatchObject({
      name: "EdgebusError",
      message: expect.stringContaining("writing edgebus.consumer_metrics failed"),
    });
  });
});
