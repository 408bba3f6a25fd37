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
