/**
 * notifyEvent when the database fails right after the provider accepted a message (found by the
 * chaos suite: a Postgres restart between the send and `markSent` made the ledger say `failed`, and
 * the redelivery sent the email again). Real Postgres ledger, real SendGrid sender against the
 * local provider; the outage is injected around the real ledger.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError } from "#shared/errors.ts";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import { startLocalProvider } from "../../../../scripts/local-provider.ts";
import { localProviderSenders } from "../../../../test/support/local-provider-senders.ts";
import { migratedTestDatabase } from "../../../../test/support/migrated-database.ts";
import type { NotificationLog, Reservation, SendRecord } from "./notification-log.ts";
import {
  type Delivery,
  execute,
  executePlan,
  type NotifierDependencies,
  notifyEvent,
  type Planned,
  planEvent,
  providerSlots,
} from "./notify-event.ts";
import { PostgresCitizenDirectory } from "./postgres-citizen-directory.ts";
import { PostgresNotificationLog } from "./postgres-notification-log.ts";
import { loadTemplateCatalogue } from "./template-catalogue.ts";

const sql = await migratedTestDatabase("shared/notify/notify-event");
const provider = await startLocalProvider({ port: 0 });
afterAll(async () => {
  await provider.close();
  await sql?.end({ timeout: 5 });
});
beforeEach(() => provider.reset());

/** The real ledger whose `markSent` fails `failures` times, as a restarting database does. */
function ledgerWithOutage(
  log: NotificationLog,
  failures: number,
  failingMarkFailed = 0,
): NotificationLog & { markSentCalls: number } {
  let remaining = failures;
  let remainingMarkFailed = failingMarkFailed;
  const wrapped = {
    markSentCalls: 0,
    reserve: (...args: Parameters<NotificationLog["reserve"]>) => log.reserve(...args),
    async markFailed(key: string, error: { code: string; message: string }) {
      if (remainingMarkFailed > 0) {
        remainingMarkFailed--;
        throw new EdgebusError("upstream_unavailable", "marking the notification failed failed: Postgres unavailable", {
          retryable: true,
        });
      }
      await log.markFailed(key, error);
    },
    markUnknown: (...args: Parameters<NotificationLog["markUnknown"]>) => log.markUnknown(...args),
    markGivenUp: (key: string) => log.markGivenUp(key),
    releaseUnknown: (key: string, error: { code: string; message: string }) => log.releaseUnknown(key, error),
    recordSkipped: (record: Parameters<NotificationLog["recordSkipped"]>[0], reason: string) =>
      log.recordSkipped(record, reason),
    async markSent(key: string, providerMessageId: string) {
      wrapped.markSentCalls++;
      if (remaining > 0) {
        remaining--;
        throw new EdgebusError("upstream_unavailable", "marking the notification sent failed: Postgres unavailable", {
          retryable: true,
        });
      }
      await log.markSent(key, providerMessageId);
    },
  };
  return wrapped;
}

/** The catalogue's own payment.completed example, with a payer address unique to the call. */
function paymentEvent(): CloudEventRecord {
  const example = governmentCatalogue.require("gov.revenue.payment.completed").example as {
    payer: Record<string, unknown>;
  };
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/test/notify-event",
    type: "gov.revenue.payment.completed",
    time: "2026-06-03T10:16:41Z",
    datacontenttype: "application/json",
    // Published by a key holding notify:direct-contact: the payer address in the event is used.
    edgebusdirectcontact: true,
    data: {
      ...example,
      payer: { ...example.payer, email: `amina.${crypto.randomUUID().slice(0, 8)}@haddad.ie` },
    },
  } as CloudEventRecord;
}

describe.skipIf(!sql)("notifyEvent: a database outage after the provider accepted", () => {
  const db = sql as NonNullable<typeof sql>;
  const deps = (log: NotificationLog, emailActivity = false): NotifierDependencies => ({
    catalogue: loadTemplateCatalogue(),
    directory: new PostgresCitizenDirectory(db),
    log,
    timeZone: "Europe/Dublin",
    senders: localProviderSenders(provider.url, { emailActivity }),
  });
  const status = async (event: CloudEventRecord) =>
    (
      await db<{ status: string }[]>`
        select status from edgebus.notifications where event_source = ${event.source} and event_id = ${event.id}`
    ).map((row) => row.status);

  it("a short outage: the mark is retried, the email counts as sent once and a redelivery sends nothing", async () => {
    const event = paymentEvent();
    const log = ledgerWithOutage(new PostgresNotificationLog(db), 2);
    const result = await notifyEvent(event, deps(log));
    expect(result.channels.map((c) => c.status)).toEqual(["sent"]);
    expect(log.markSentCalls).toBe(3);
    expect(await status(event)).toEqual(["sent"]);

    const again = await notifyEvent(event, deps(new PostgresNotificationLog(db)));
    expect(again.channels.map((c) => c.status)).toEqual(["already_sent"]);
    expect(provider.stats().sendgrid).toMatchObject({ accepted: 1, duplicates: 0 });
  });

  it("a long outage: never marked failed; the redelivery finds the send reserved (busy) instead of sending again", async () => {
    const event = paymentEvent();
    const log = ledgerWithOutage(new PostgresNotificationLog(db), Number.POSITIVE_INFINITY);
    const failure = await notifyEvent(event, deps(log)).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(failure).toBeInstanceOf(EdgebusError);
    expect((failure as EdgebusError).retryable).toBe(true);
    expect((failure as EdgebusError).retryAfterSeconds).toBe(60);
    expect(await status(event)).toEqual(["sending"]);

    const redelivery = await notifyEvent(event, deps(new PostgresNotificationLog(db))).then(
      () => undefined,
      (thrown: unknown) => thrown as EdgebusError,
    );
    expect(redelivery?.code).toBe("conflict");
    expect(provider.stats().sendgrid).toMatchObject({ accepted: 1, duplicates: 0 });
  }, 20_000);

  it("a long outage past the lease: the redelivery asks the provider, finds the email and sends nothing twice", async () => {
    const event = paymentEvent();
    const shortLease = () => new PostgresNotificationLog(db, { leaseSeconds: 1 });
    const failure = await notifyEvent(event, deps(ledgerWithOutage(shortLease(), Number.POSITIVE_INFINITY), true)).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect((failure as EdgebusError).retryable).toBe(true);
    expect(await status(event)).toEqual(["sending"]);
    await new Promise((resolve) => setTimeout(resolve, 1_200));

    const settled = await notifyEvent(event, {
      ...deps(shortLease(), true),
      unknownOutcome: { visibilitySeconds: 0, policy: "resend" },
    });
    expect(settled.channels).toEqual([
      expect.objectContaining({ channel: "email", status: "sent", reconciliation: "found" }),
    ]);
    expect(await status(event)).toEqual(["sent"]);
    expect(provider.stats().sendgrid).toMatchObject({ accepted: 1, duplicates: 0 });
  }, 20_000);

  it("a provider refusal during a short outage is still recorded failed: the redelivery sends at once", async () => {
    const event = paymentEvent();
    provider.failNext("sendgrid", { status: 503 });
    const failure = await notifyEvent(event, deps(ledgerWithOutage(new PostgresNotificationLog(db), 0, 2))).then(
      () => undefined,
      (thrown: unknown) => thrown as EdgebusError,
    );
    expect(failure).toMatchObject({ code: "upstream_unavailable", retryable: true });
    // Not left `sending` (which a redelivery would have to treat as an unknown outcome).
    expect(await status(event)).toEqual(["failed"]);
    const again = await notifyEvent(event, deps(new PostgresNotificationLog(db)));
    expect(again.channels.map((c) => c.status)).toEqual(["sent"]);
    expect(provider.stats().sendgrid).toMatchObject({ accepted: 1, duplicates: 0 });
  }, 20_000);
});

describe("execute with provider slots", () => {
  const record = (n: number): SendRecord => ({
    idempotencyKey: `ntf_slot_${n}`,
    eventSource: "/test/slots",
    eventId: `e${n}`,
    eventType: "gov.test",
    channel: "email",
    recipient: `r${n}@example.org`,
    template: "t",
    locale: "en",
    provider: "sendgrid",
  });
  const delivery: Delivery = { enqueuedAt: new Date(), attempts: 1, maxRetries: 5 };
  const unused = () => Promise.reject(new Error("not expected"));
  function recordingLog(order: string[], reservation: Reservation = { state: "send", attempt: 1 }): NotificationLog {
    return {
      async reserve(sent) {
        order.push(`reserve ${sent.eventId}`);
        return reservation;
      },
      async markSent(key) {
        order.push(`mark ${key.slice(-2)}`);
      },
      markFailed: unused,
      markUnknown: unused,
      markGivenUp: unused,
      releaseUnknown: unused,
      recordSkipped: unused,
    };
  }
  const deps = (log: NotificationLog, slots: number, order: string[]): NotifierDependencies => {
    const inner = providerSlots(slots);
    return {
      catalogue: loadTemplateCatalogue(),
      directory: { find: () => Promise.resolve({ state: "unknown" }) },
      log,
      timeZone: "Europe/Dublin",
      senders: localProviderSenders(provider.url),
      providerSlots: {
        async take() {
          order.push("slot");
          const free = await inner.take();
          let freed = false;
          return () => {
            if (!freed) order.push("free");
            freed = true;
            free();
          };
        },
      },
    };
  };
  const sendPlan = (n: number, order: string[], gate?: Promise<void>): Planned => ({
    kind: "send",
    record: record(n),
    async send() {
      order.push(`send e${n}`);
      await gate;
      order.push(`answer e${n}`);
      return { providerMessageId: `m${n}`, status: 202 };
    },
    lookup: undefined,
  });

  it("takes the slot before the send is reserved and frees it once the provider answered, before the mark", async () => {
    const order: string[] = [];
    const result = await execute(sendPlan(1, order), deps(recordingLog(order), 1, order), delivery);
    expect(result).toMatchObject({ status: "sent", providerMessageId: "m1" });
    expect(order).toEqual(["slot", "reserve e1", "send e1", "answer e1", "free", "mark _1"]);
  });

  it("a send waiting for a slot is not reserved until the slot is free", async () => {
    const order: string[] = [];
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const shared = deps(recordingLog(order), 1, order);
    const first = execute(sendPlan(1, order, gate), shared, delivery);
    const second = execute(sendPlan(2, order), shared, delivery);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Both asked for the slot at once; only the first holds it, reserved and sending.
    expect(order).toEqual(["slot", "slot", "reserve e1", "send e1"]);
    open();
    await Promise.all([first, second]);
    expect(order.indexOf("reserve e2")).toBeGreaterThan(order.indexOf("answer e1"));
  });

  it("a reservation that does not send (busy) gives its slot back", async () => {
    const order: string[] = [];
    const log = recordingLog(order, { state: "busy", retryAfterSeconds: 3 });
    const result = await execute(sendPlan(1, order), deps(log, 1, order), delivery);
    expect(result).toMatchObject({ status: "failed" });
    expect(order).toEqual(["slot", "reserve e1", "free"]);
  });
});

describe("planEvent renders when the plan is executed", () => {
  it("a variable the event lacks fails the event before anything is reserved or sent", async () => {
    const example = governmentCatalogue.require("gov.revenue.payment.completed").example as Record<string, unknown>;
    const { amount_minor: _amount, ...data } = example;
    const event = {
      specversion: "1.0",
      id: crypto.randomUUID(),
      source: "/test/notify-event",
      type: "gov.revenue.payment.completed",
      time: "2026-06-03T10:16:41Z",
      edgebusdirectcontact: true,
      data,
    } as CloudEventRecord;
    const order: string[] = [];
    const log: NotificationLog = {
      async reserve() {
        order.push("reserve");
        return { state: "send", attempt: 1 };
      },
      async markSent() {
        order.push("mark");
      },
      markFailed: () => Promise.resolve(),
      markUnknown: () => Promise.resolve(),
      markGivenUp: () => Promise.resolve(),
      releaseUnknown: () => Promise.resolve(),
      recordSkipped: () => Promise.resolve(),
    };
    const deps: NotifierDependencies = {
      catalogue: loadTemplateCatalogue(),
      directory: { find: () => Promise.resolve({ state: "unknown" }) },
      log,
      timeZone: "Europe/Dublin",
      senders: localProviderSenders(provider.url),
    };
    const plan = await planEvent(event, deps);
    expect(plan.planned.some((planned) => planned.kind === "send")).toBe(true);
    await expect(
      executePlan(event, plan, deps, { enqueuedAt: new Date(), attempts: 1, maxRetries: 5 }),
    ).rejects.toMatchObject({
      code: "schema_validation_failed",
      retryable: false,
    });
    expect(order).toEqual([]);
    expect(provider.stats().sendgrid.accepted).toBe(0);
  });
});
