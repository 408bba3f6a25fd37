import { afterAll, describe, expect, it } from "vitest";
import { migratedTestDatabase } from "../../../../test/support/migrated-database.ts";
import { type DeadLetterRecord, recordDeadLetters } from "../../../dead-letter/src/dead-letters-store.ts";
import {
  countPendingDeadLetters,
  discardDeadLetter,
  getDeadLetter,
  listDeadLetters,
  replayDeadLetters,
} from "./dead-letter-admin-store.ts";

const sql = await migratedTestDatabase("shared/db/dead-letter-admin-store");

/** Dead letters of a consumer no other test uses, so filters by consumer see only ours. */
function letters(consumer: string, count: number, overrides: Partial<DeadLetterRecord> = {}): DeadLetterRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const id = crypto.randomUUID();
    return {
      queue: "notifications",
      consumer,
      eventSource: "/services/test",
      eventId: id,
      eventType: i % 2 === 0 ? "gov.permits.application.submitted" : "gov.revenue.payment.completed",
      messageId: `m-${i}`,
      event: { specversion: "1.0", id, source: "/services/test", type: "x", time: "2026-11-20T10:00:00Z" },
      errorCode: "bad_request",
      errorType: i % 3 === 0 ? "EdgebusError" : "PostgresError",
      errorMessage: `failure ${i}`,
      errorDetails: { status: 400 },
      failureReason: "permanent",
      attempts: 1,
      // Distinct times, one second apart, newest last.
      failedAt: new Date(Date.UTC(2026, 10, 20, 10, 0, i)).toISOString(),
      ...overrides,
    };
  });
}

describe.skipIf(!sql)("dead-letter admin store (real Postgres)", () => {
  const db = sql as NonNullable<typeof sql>;
  afterAll(async () => {
    await db.end({ timeout: 5 });
  });

  it("lists newest failure first with filters and keyset pages that neither skip nor repeat", async () => {
    const consumer = `test-${crypto.randomUUID()}`;
    await recordDeadLetters(db, letters(consumer, 7));
    const seen: number[] = [];
    let after: Parameters<typeof listDeadLetters>[2]["after"];
    let pages = 0;
    do {
      const page = await listDeadLetters(db, { consumer }, { limit: 3, ...(after ? { after } : {}) });
      seen.push(...page.entries.map((e) => e.id));
      after = page.next;
      pages++;
    } while (after !== undefined);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(7);
    const all = (await listDeadLetters(db, { consumer }, { limit: 100 })).entries;
    expect(all.map((e) => e.id)).toEqual(seen);
    expect(all.map((e) => e.error.message)).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => `failure ${i}`));
    expect(all[0]).toMatchObject({
      queue: "notifications",
      consumer,
      status: "pending",
      attempts: 1,
      error: { code: "bad_request", reason: "permanent", details: { status: 400 } },
    });

    const revenue = await listDeadLetters(db, { consumer, type: "gov.revenue.*" }, { limit: 100 });
    expect(revenue.entries.map((e) => e.event.type)).toEqual(Array(3).fill("gov.revenue.payment.completed"));
    const edgebus = await listDeadLetters(db, { consumer, error_type: "EdgebusError" }, { limit: 100 });
    expect(edgebus.entries.map((e) => e.error.message)).toEqual(["failure 6", "failure 3", "failure 0"]);
    const window = await listDeadLetters(
      db,
      { consumer, from: "2026-11-20T10:00:02Z", to: "2026-11-20T10:00:04Z" },
      { limit: 100 },
    );
    expect(window.entries.map((e) => e.error.message)).toEqual(["failure 3", "failure 2"]);
    expect((await listDeadLetters(db, { consumer, queue: "archive" }, { limit: 100 })).entries).toEqual([]);
  });

  it("replays pending entries inside a transaction, marking who and when, and leaves them pending when the send fails", async () => {
    const consumer = `test-${crypto.randomUUID()}`;
    await recordDeadLetters(db, letters(consumer, 4));
    const ids = (await listDeadLetters(db, { consumer }, { limit: 10 })).entries.map((e) => e.id).sort((a, b) => a - b);

    await expect(
      replayDeadLetters(db, { ids: ids.slice(0, 2) }, "ops-key", async () => {
        throw new Error("queue down");
      }),
    ).rejects.toThrow("queue down");
    expect((await countPendingDeadLetters(db, { consumer })).total).toBe(4);

    const sent: unknown[] = [];
    const replayed = await replayDeadLetters(db, { ids: ids.slice(0, 2) }, "ops-key", async (redrives) => {
      sent.push(...redrives);
    });
    expect(replayed.map((r) => r.id)).toEqual(ids.slice(0, 2));
    expect(sent).toHaveLength(2);
    const first = await getDeadLetter(db, ids[0] as number);
    expect(first).toMatchObject({ status: "replayed", replayed_by: "ops-key", replay_count: 1 });
    expect(first?.body).toMatchObject({ source: "/services/test" });
    expect(Date.now() - Date.parse(first?.replayed_at ?? "")).toBeLessThan(60_000);

    // Already replayed: not sent again.
    expect(await replayDeadLetters(db, { ids: [ids[0] as number] }, "ops-key", async () => {})).toEqual([]);

    // A filter walk takes pending rows after the cursor, up to the bound, in id order.
    const walk = await replayDeadLetters(
      db,
      { filter: { consumer }, afterId: 0, upperBound: ids[3] as number, limit: 1 },
      "bulk",
      async () => {},
    );
    expect(walk.map((r) => r.id)).toEqual([ids[2]]);
    expect((await countPendingDeadLetters(db, { consumer })).byQueue).toEqual({ notifications: 1 });
  });

  it("a new failure of a replayed event puts it back to pending", async () => {
    const consumer = `test-${crypto.randomUUID()}`;
    const [letter] = letters(consumer, 1);
    await recordDeadLetters(db, [letter as DeadLetterRecord]);
    const [entry] = (await listDeadLetters(db, { consumer }, { limit: 1 })).entries;
    await replayDeadLetters(db, { ids: [entry?.id as number] }, "ops", async () => {});
    await recordDeadLetters(db, [
      { ...(letter as DeadLetterRecord), failedAt: new Date(Date.UTC(2026, 10, 21)).toISOString() },
    ]);
    expect(await getDeadLetter(db, entry?.id as number)).toMatchObject({
      status: "pending",
      failure_count: 2,
      replay_count: 1,
    });
  });

  it("discards a pending entry with who and why, once", async () => {
    const consumer = `test-${crypto.randomUUID()}`;
    await recordDeadLetters(db, letters(consumer, 1));
    const [entry] = (await listDeadLetters(db, { consumer }, { limit: 1 })).entries;
    const id = entry?.id as number;
    const result = await discardDeadLetter(db, id, "ops", "duplicate of ticket 42");
    expect(result).toMatchObject({
      kind: "discarded",
      entry: { status: "discarded", discarded_by: "ops", discarded_reason: "duplicate of ticket 42" },
    });
    expect(await discardDeadLetter(db, id, "ops", "again")).toEqual({ kind: "not-pending", status: "discarded" });
    expect(await discardDeadLetter(db, 9_007_199_254_740_000, "ops", "x")).toEqual({ kind: "not-found" });
    expect((await listDeadLetters(db, { consumer, status: "any" }, { limit: 5 })).entries).toHaveLength(1);
    expect((await listDeadLetters(db, { consumer }, { limit: 5 })).entries).toHaveLength(0);
  });
});
