import { afterAll, describe, expect, it } from "vitest";
import { migratedTestDatabase } from "../../../../test/support/migrated-database.ts";
import type { SendRecord } from "./notification-log.ts";
import { PostgresNotificationLog } from "./postgres-notification-log.ts";

const sql = await migratedTestDatabase("shared/notify/postgres-notification-log");

function sendRecord(overrides: Partial<SendRecord> = {}): SendRecord {
  return {
    idempotencyKey: `ntf_test_${crypto.randomUUID()}`,
    eventSource: "/test/notification-log",
    eventId: crypto.randomUUID(),
    eventType: "gov.revenue.payment.completed",
    channel: "email",
    recipient: "amina@haddad.ie",
    template: "payment_receipt",
    locale: "en",
    provider: "sendgrid",
    ...overrides,
  };
}

describe.skipIf(!sql)("PostgresNotificationLog (real Postgres)", () => {
  const db = sql as NonNullable<typeof sql>;
  const log = new PostgresNotificationLog(db);
  const VISIBLE = { visibilitySeconds: 0 };
  afterAll(() => db.end({ timeout: 5 }));

  const row = async (key: string) =>
    (
      await db`select status, attempts, provider_message_id, last_error, skip_reason, locale, sent_at is not null as has_sent_at
               from edgebus.notifications where idempotency_key = ${key}`
    )[0];

  it("reserve → markSent; a sent key is never handed out again", async () => {
    const record = sendRecord();
    expect(await log.reserve(record, VISIBLE)).toEqual({ state: "send", attempt: 1 });
    await log.markSent(record.idempotencyKey, "msg-1");
    expect(await row(record.idempotencyKey)).toMatchObject({
      status: "sent",
      attempts: 1,
      provider_message_id: "msg-1",
      locale: "en",
      has_sent_at: true,
    });
    expect(await log.reserve(record, VISIBLE)).toEqual({ state: "done" });
  });

  it("of concurrent reservations exactly one may send; the others are told it is busy", async () => {
    const record = sendRecord();
    const results = await Promise.all(Array.from({ length: 5 }, () => log.reserve(record, VISIBLE)));
    expect(results.filter((result) => result.state === "send")).toHaveLength(1);
    expect(results.filter((result) => result.state === "busy")).toHaveLength(4);
  });

  it("concurrent sends share statements: a wave of reservations is one insert, its sent marks one update", async () => {
    let statements = 0;
    const counted = new PostgresNotificationLog(
      new Proxy(db, {
        apply(target, self, args) {
          statements++;
          return Reflect.apply(target, self, args);
        },
      }),
    );
    const records = Array.from({ length: 20 }, () => sendRecord());
    const reservations = await Promise.all(records.map((record) => counted.reserve(record, VISIBLE)));
    expect(reservations.every((reservation) => reservation.state === "send")).toBe(true);
    expect(statements).toBe(1);
    await Promise.all(records.map((record, i) => counted.markSent(record.idempotencyKey, `msg-wave-${i}`)));
    expect(statements).toBe(2);
    for (const [i, record] of records.entries()) {
      expect(await row(record.idempotencyKey)).toMatchObject({ status: "sent", provider_message_id: `msg-wave-${i}` });
    }
  });

  /** `db` with every statement counted (tagged-template calls; a transaction's own count as one). */
  function countingDb() {
    const counter = { statements: 0 };
    const counted = new Proxy(db, {
      apply(target, self, args) {
        counter.statements++;
        return Reflect.apply(target, self, args);
      },
    });
    return { counted, counter };
  }

  it("a batch reserved ahead costs one statement for all its sends; each held send is handed out once, without a statement", async () => {
    const { counted, counter } = countingDb();
    const batchLog = new PostgresNotificationLog(counted);
    const records = Array.from({ length: 100 }, () => sendRecord());
    await batchLog.reserveAhead(records);
    expect(counter.statements).toBe(1);
    for (const record of records) {
      expect(await row(record.idempotencyKey)).toMatchObject({ status: "sending", attempts: 1 });
    }
    const reservations = await Promise.all(records.map((record) => batchLog.reserve(record, VISIBLE)));
    expect(reservations.every((reservation) => reservation.state === "send")).toBe(true);
    expect(counter.statements).toBe(1);
    // Handed out once: asked again, the key is decided on its row (a send under way: busy).
    expect(await batchLog.reserve(records[0] as SendRecord, VISIBLE)).toMatchObject({ state: "busy" });
  });

  it("with a window, the sent marks of held sends go together, the group leaving once no other send is under way", async () => {
    const { counted, counter } = countingDb();
    const batchLog = new PostgresNotificationLog(counted, { sentMarks: { size: 1000, waitMs: 60_000 } });
    const records = Array.from({ length: 10 }, () => sendRecord());
    await batchLog.reserveAhead(records);
    for (const record of records) await batchLog.reserve(record, VISIBLE);
    const started = Date.now();
    await Promise.all(records.map((record, i) => batchLog.markSent(record.idempotencyKey, `msg-window-${i}`)));
    // One statement, and not after the 60 s window: the last mark found nothing else under way.
    expect(counter.statements).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
    for (const [i, record] of records.entries()) {
      expect(await row(record.idempotencyKey)).toMatchObject({
        status: "sent",
        provider_message_id: `msg-window-${i}`,
      });
    }
  });

  it("a send the ledger already has is not held by a batch: its reserve decides on its row", async () => {
    const record = sendRecord();
    await log.reserve(record, VISIBLE);
    await log.markSent(record.idempotencyKey, "msg-before");
    const batchLog = new PostgresNotificationLog(db);
    const fresh = sendRecord();
    await batchLog.reserveAhead([record, fresh]);
    expect(await batchLog.reserve(record, VISIBLE)).toEqual({ state: "done" });
    expect(await batchLog.reserve(fresh, VISIBLE)).toEqual({ state: "send", attempt: 1 });
  });

  it("the same send twice in a batch: one delivery holds it, the other is told it is busy", async () => {
    const record = sendRecord();
    const batchLog = new PostgresNotificationLog(db);
    await batchLog.reserveAhead([record, record]);
    const results = await Promise.all([batchLog.reserve(record, VISIBLE), batchLog.reserve(record, VISIBLE)]);
    expect(results.map((result) => result.state).sort()).toEqual(["busy", "send"]);
  });

  it("a hold older than holdSeconds is renewed first, every held send in one statement", async () => {
    const { counted, counter } = countingDb();
    const batchLog = new PostgresNotificationLog(counted, { holdSeconds: 0.2 });
    const records = Array.from({ length: 3 }, () => sendRecord()) as [SendRecord, SendRecord, SendRecord];
    const updatedAt = async (record: SendRecord) => {
      const [found] = await db<{ updated_at: Date }[]>`
        select updated_at from edgebus.notifications where idempotency_key = ${record.idempotencyKey}`;
      return (found as { updated_at: Date }).updated_at.getTime();
    };
    await batchLog.reserveAhead(records);
    const before = await updatedAt(records[2]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await batchLog.reserve(records[0], VISIBLE)).toEqual({ state: "send", attempt: 1 });
    expect(counter.statements).toBe(2);
    // The others were renewed with it: handed out without another statement.
    expect(await batchLog.reserve(records[1], VISIBLE)).toEqual({ state: "send", attempt: 1 });
    expect(counter.statements).toBe(2);
    expect(await updatedAt(records[2])).toBeGreaterThan(before);
  });

  it("a hold another delivery took over after its lease is not handed out: no second send", async () => {
    const batchLog = new PostgresNotificationLog(db, { leaseSeconds: 1, holdSeconds: 0 });
    const other = new PostgresNotificationLog(db, { leaseSeconds: 1 });
    const record = sendRecord();
    await batchLog.reserveAhead([record]);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    // Past the lease the other delivery counts it as a stopped attempt and reconciles it.
    expect(await other.reserve(record, VISIBLE)).toMatchObject({ state: "reconcile", attempt: 2 });
    expect(await batchLog.reserve(record, VISIBLE)).toMatchObject({ state: "busy" });
  });

  it("releaseUnused removes the reservations never handed out, and only those", async () => {
    const batchLog = new PostgresNotificationLog(db);
    const [used, unused, alsoUnused] = Array.from({ length: 3 }, () => sendRecord()) as [
      SendRecord,
      SendRecord,
      SendRecord,
    ];
    await batchLog.reserveAhead([used, unused, alsoUnused]);
    await batchLog.reserve(used, VISIBLE);
    await batchLog.markSent(used.idempotencyKey, "msg-used");
    await batchLog.releaseUnused();
    expect(await row(used.idempotencyKey)).toMatchObject({ status: "sent" });
    expect(await row(unused.idempotencyKey)).toBeUndefined();
    expect(await row(alsoUnused.idempotencyKey)).toBeUndefined();
    // Nothing was sent for them: a later delivery sends them as first attempts.
    expect(await log.reserve(unused, VISIBLE)).toEqual({ state: "send", attempt: 1 });
  });

  it("a failed send can be reserved again, counting attempts", async () => {
    const record = sendRecord();
    await log.reserve(record, VISIBLE);
    await log.markFailed(record.idempotencyKey, { code: "rate_limited", message: "sendgrid rate limited the request" });
    expect(await row(record.idempotencyKey)).toMatchObject({
      status: "failed",
      last_error: "rate_limited: sendgrid rate limited the request",
    });
    expect(await log.reserve(record, VISIBLE)).toEqual({ state: "send", attempt: 2 });
  });

  it("a reservation abandoned by a crash is an unknown outcome once its lease expired: reconciled, never sent blindly", async () => {
    const shortLease = new PostgresNotificationLog(db, { leaseSeconds: 1 });
    const record = sendRecord();
    expect(await shortLease.reserve(record, VISIBLE)).toMatchObject({ state: "send" });
    expect(await shortLease.reserve(record, VISIBLE)).toMatchObject({ state: "busy" });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    // The provider's records may not show it yet: wait out the visibility window from the attempt.
    expect(await shortLease.reserve(record, { visibilitySeconds: 60 })).toMatchObject({ state: "wait" });
    expect(await row(record.idempotencyKey)).toMatchObject({ status: "unknown" });
    // The window counts from the stopped attempt, whatever a later delivery asks for.
    expect(await shortLease.reserve(record, VISIBLE)).toMatchObject({ state: "wait" });
  });

  it("a stopped attempt past the visibility window is handed out to reconcile, with when it started", async () => {
    const shortLease = new PostgresNotificationLog(db, { leaseSeconds: 1 });
    const record = sendRecord();
    const started = Date.now();
    await shortLease.reserve(record, VISIBLE);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const reservation = await shortLease.reserve(record, VISIBLE);
    expect(reservation).toMatchObject({ state: "reconcile", attempt: 2 });
    const since = (reservation as { since: Date }).since.getTime();
    expect(Math.abs(since - started)).toBeLessThan(1000);
  });

  it("an unknown outcome waits for its window, then exactly one of concurrent deliveries reconciles it", async () => {
    const record = sendRecord();
    await log.reserve(record, VISIBLE);
    await log.markUnknown(
      record.idempotencyKey,
      { code: "upstream_unavailable", message: "timeout" },
      { visibilitySeconds: 60 },
    );
    expect(await row(record.idempotencyKey)).toMatchObject({
      status: "unknown",
      last_error: "upstream_unavailable: timeout",
    });
    const waiting = await log.reserve(record, VISIBLE);
    expect(waiting).toMatchObject({ state: "wait" });
    expect((waiting as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(55);

    await db`update edgebus.notifications set reconcile_after = now() where idempotency_key = ${record.idempotencyKey}`;
    const results = await Promise.all(Array.from({ length: 4 }, () => log.reserve(record, VISIBLE)));
    expect(results.filter((result) => result.state === "reconcile")).toHaveLength(1);
    expect(results.filter((result) => result.state === "busy")).toHaveLength(3);

    await log.markSent(record.idempotencyKey, "SM123", "found");
    expect(await row(record.idempotencyKey)).toMatchObject({ status: "sent", provider_message_id: "SM123" });
    const [settled] =
      await db`select reconciliation from edgebus.notifications where idempotency_key = ${record.idempotencyKey}`;
    expect(settled).toEqual({ reconciliation: "found" });
    expect(await log.reserve(record, VISIBLE)).toEqual({ state: "done" });
  });

  it("a reconciliation that could not ask the provider is released and retried at once; a given-up one is done", async () => {
    const record = sendRecord();
    await log.reserve(record, VISIBLE);
    await log.markUnknown(
      record.idempotencyKey,
      { code: "upstream_unavailable", message: "timeout" },
      { visibilitySeconds: 0 },
    );
    expect(await log.reserve(record, VISIBLE)).toMatchObject({ state: "reconcile" });
    await log.releaseUnknown(record.idempotencyKey, { code: "upstream_unavailable", message: "lookup failed" });
    expect(await log.reserve(record, VISIBLE)).toMatchObject({ state: "reconcile" });
    await log.markGivenUp(record.idempotencyKey);
    expect(await row(record.idempotencyKey)).toMatchObject({ status: "unknown" });
    expect(await log.reserve(record, VISIBLE)).toEqual({ state: "done" });
  });

  it("records a skipped send with its reason once, and never sends it", async () => {
    const record = sendRecord({ recipient: "", provider: null });
    await log.recordSkipped(record, "no_email_address");
    await log.recordSkipped(record, "no_email_address");
    expect(await row(record.idempotencyKey)).toMatchObject({ status: "skipped", skip_reason: "no_email_address" });
    expect(await log.reserve(record, VISIBLE)).toEqual({ state: "done" });
  });

  it("turns an unreachable database into a retryable error", async () => {
    const postgres = (await import("postgres")).default;
    const down = postgres("postgres://postgres@127.0.0.1:1/none", { max: 1, connect_timeout: 2 });
    const error = await new PostgresNotificationLog(down)
      .reserve(sendRecord(), VISIBLE)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: "upstream_unavailable", retryable: true });
    await down.end({ timeout: 1 });
  });
});
