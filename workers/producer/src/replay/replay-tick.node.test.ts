import { afterAll, describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { migratedTestDatabase } from "../../../../test/support/migrated-database.ts";
import { archiveEvents } from "../../../archive/src/event-archive-store.ts";
import { type DeadLetterRecord, recordDeadLetters } from "../../../dead-letter/src/dead-letters-store.ts";
import { MemoryPublisher } from "../brokers/memory-publisher.ts";
import { createArchiveReplayJob, createDeadLetterRedriveJob, finishReplayJob, getReplayJob } from "./replay-jobs.ts";
import { runReplayTick } from "./replay-tick.ts";

const sql = await migratedTestDatabase("shared/replay/replay-tick");

/** Events of a type no other test archives, `count` of them one minute apart from 10:00. */
function archivedEvents(type: string, count: number): CloudEventRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    specversion: "1.0" as const,
    id: crypto.randomUUID(),
    source: "/services/replay-test",
    type,
    time: new Date(Date.UTC(2026, 10, 20, 10, i)).toISOString(),
    partitionkey: `P-${i}`,
    eventversion: i + 1,
    data: { n: i },
  }));
}

describe.skipIf(!sql)("replay jobs and their ticks (real Postgres)", () => {
  const db = sql as NonNullable<typeof sql>;
  afterAll(async () => {
    await db.end({ timeout: 5 });
  });

  it("replays an archive window in time order, one rate-sized slice per tick, with source + id unchanged", async () => {
    const domain = `test${crypto.randomUUID().replaceAll("-", "")}`;
    const created = archivedEvents(`gov.${domain}.thing.created`, 7);
    const updated = archivedEvents(`gov.${domain}.thing.updated`, 3);
    // Archived out of time order: replay must still go by event time.
    await archiveEvents(db, [...created.slice(4), ...updated, ...created.slice(0, 4)]);
    const { job } = await createArchiveReplayJob(db, {
      selection: { type: `gov.${domain}.thing.*`, from: "2026-11-20T10:01:00Z", to: "2026-11-20T10:06:00Z" },
      queue: "kafka-mirror",
      ratePerSecond: 3,
      requestedBy: "ops",
      rebuild: false,
    });
    // 10:01..10:05 of both types: created 1-5 and updated 1-2.
    expect(job).toMatchObject({ kind: "archive", status: "running", total: 7, sent: 0, queue: "kafka-mirror" });
    expect(job.eta_seconds).toBe(3);

    // Arrives after the job started: beyond its upper bound, not replayed.
    await archiveEvents(db, archivedEvents(`gov.${domain}.thing.created`, 3).slice(2));

    const queues = new MemoryPublisher();
    const ticks = [];
    for (let i = 0; i < 5; i++) ticks.push(await runReplayTick({ sql: db, queues }, job.id));
    expect(ticks).toEqual([
      { kind: "continue", sent: 3, delayMs: 1000 },
      { kind: "continue", sent: 3, delayMs: 1000 },
      { kind: "continue", sent: 1, delayMs: 334 },
      { kind: "finished", status: "completed" },
      { kind: "finished", status: "completed" },
    ]);
    const sent = queues.messages("kafka-mirror").map((m) => JSON.parse(m.value) as CloudEventRecord);
    expect(sent.map((e) => e.time)).toEqual([...sent.map((e) => e.time)].sort());
    const expected = [...created.slice(1, 6), ...updated.slice(1, 3)].sort((a, b) => a.time.localeCompare(b.time));
    expect(sent.map((e) => e.id).sort()).toEqual(expected.map((e) => e.id).sort());
    expect(sent.find((e) => e.id === expected[0]?.id)).toEqual(expected[0]);
    expect(await getReplayJob(db, job.id)).toMatchObject({ status: "completed", sent: 7, remaining: 0, progress: 1 });
  });

  it("redrives pending dead letters back to the queue each failed on and stops at the bound", async () => {
    const consumer = `test-${crypto.randomUUID()}`;
    const letter = (queue: string, i: number): DeadLetterRecord => {
      const id = crypto.randomUUID();
      return {
        queue,
        consumer,
        eventSource: "/services/test",
        eventId: id,
        eventType: "gov.auth.citizen.created",
        messageId: null,
        event: { specversion: "1.0", id, source: "/services/test", type: "gov.auth.citizen.created" },
        errorCode: "upstream_unavailable",
        errorType: "EdgebusError",
        errorMessage: "down",
        errorDetails: undefined,
        failureReason: "exhausted",
        attempts: 6,
        failedAt: new Date(Date.UTC(2026, 10, 20, 11, 0, i)).toISOString(),
      };
    };
    await recordDeadLetters(db, [
      letter("notifications", 0),
      letter("permits-citizen-sync", 1),
      letter("notifications", 2),
    ]);
    const { job, byQueue } = await createDeadLetterRedriveJob(db, {
      filter: { consumer },
      ratePerSecond: 2,
      requestedBy: "ops",
    });
    expect(byQueue).toEqual({ notifications: 2, "permits-citizen-sync": 1 });
    expect(job).toMatchObject({ kind: "dead-letters", total: 3, queue: null });

    const queues = new MemoryPublisher();
    queues.failNext(1);
    await expect(runReplayTick({ sql: db, queues }, job.id)).rejects.toThrow();
    // The failed slice stayed pending and is sent by the next tick.
    expect(await runReplayTick({ sql: db, queues }, job.id)).toEqual({ kind: "continue", sent: 2, delayMs: 1000 });
    expect(await runReplayTick({ sql: db, queues }, job.id)).toEqual({ kind: "continue", sent: 1, delayMs: 500 });
    expect(await runReplayTick({ sql: db, queues }, job.id)).toEqual({ kind: "finished", status: "completed" });
    expect(queues.messages("notifications")).toHaveLength(2);
    expect(queues.messages("permits-citizen-sync")).toHaveLength(1);
    expect(await getReplayJob(db, job.id)).toMatchObject({ status: "completed", sent: 3 });
  });

  it("a cancelled job sends nothing more", async () => {
    const domain = `test${crypto.randomUUID().replaceAll("-", "")}`;
    await archiveEvents(db, archivedEvents(`gov.${domain}.thing.created`, 4));
    const { job } = await createArchiveReplayJob(db, {
      selection: { type: `gov.${domain}.*`, from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z" },
      queue: "archive",
      ratePerSecond: 2,
      requestedBy: "ops",
      rebuild: false,
    });
    const queues = new MemoryPublisher();
    await runReplayTick({ sql: db, queues }, job.id);
    expect((await finishReplayJob(db, job.id, "cancelled"))?.status).toBe("cancelled");
    expect(await runReplayTick({ sql: db, queues }, job.id)).toEqual({ kind: "finished", status: "cancelled" });
    expect(queues.messages("archive")).toHaveLength(2);
    expect(await getReplayJob(db, job.id)).toMatchObject({ status: "cancelled", sent: 2, remaining: 0 });
  });
});
