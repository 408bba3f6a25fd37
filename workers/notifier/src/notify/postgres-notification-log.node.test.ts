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
  afterAll(() => db.end({ timeout: 5 }));

  const row = async (key: string) =>
    (
      await db`select status, attempts, provider_message_id, last_error, skip_reason, locale, sent_at is not null as has_sent_at
               from edgebus.notifications where idempotency_key = ${key}`
    )[0];

  it("reserve → markSent; a sent key is never handed out again", async () => {
    const record = sendRecord();
    expect(await log.reserve(record)).toEqual({ state: "send", attempt: 1 });
    await log.markSent(record.idempotencyKey, "msg-1");
    expect(await row(record.idempotencyKey)).toMatchObject({
      status: "sent",
      attempts: 1,
      provider_message_id: "msg-1",
      locale: "en",
      has_sent_at: true,
    });
    expect(await log.reserve(record)).toEqual({ state: "done" });
  });

  it("of concurrent reservations exactly one may send; the others are told it is busy", async () => {
    const record = sendRecord();
    const results = await Promise.all(Array.from({ length: 5 }, () => log.reserve(record)));
    expect(results.filter((result) => result.state === "send")).toHaveLength(1);
    expect(results.filter((result) => result.state === "busy")).toHaveLength(4);
  });

  it("a failed send can be reserved again, counting attempts", async () => {
    const record = sendRecord();
    await log.reserve(record);
    await log.markFailed(record.idempotencyKey, { code: "rate_limited", message: "sendgrid rate limited the request" });
    expect(await row(record.idempotencyKey)).toMatchObject({
      status: "failed",
      last_error: "rate_limited: sendgrid rate limited the request",
    });
    expect(await log.reserve(record)).toEqual({ state: "send", attempt: 2 });
  });

  it("a reservation abandoned by a crash is taken over once its lease expired", async () => {
    const shortLease = new PostgresNotificationLog(db, { leaseSeconds: 1 });
    const record = sendRecord();
    expect(await shortLease.reserve(record)).toMatchObject({ state: "send" });
    expect(await shortLease.reserve(record)).toEqual({ state: "busy" });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await shortLease.reserve(record)).toEqual({ state: "send", attempt: 2 });
  });

  it("records a skipped send with its reason once, and never sends it", async () => {
    const record = sendRecord({ recipient: "", provider: null });
    await log.recordSkipped(record, "no_email_address");
    await log.recordSkipped(record, "no_email_address");
    expect(await row(record.idempotencyKey)).toMatchObject({ status: "skipped", skip_reason: "no_email_address" });
    expect(await log.reserve(record)).toEqual({ state: "done" });
  });

  it("turns an unreachable database into a retryable error", async () => {
    const postgres = (await import("postgres")).default;
    const down = postgres("postgres://postgres@127.0.0.1:1/none", { max: 1, connect_timeout: 2 });
    const error = await new PostgresNotificationLog(down).reserve(sendRecord()).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: "upstream_unavailable", retryable: true });
    await down.end({ timeout: 1 });
  });
});
