import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it, vi } from "vitest";
import type { QueueMessage } from "#shared/consumers/consumer-message.ts";
import { DEAD_LETTER_KIND, type DeadLetterMessage } from "#shared/consumers/dead-letter-message.ts";
import { openDatabase } from "#shared/db/client.ts";
import { consumerMetricsTotals, metricsQueue } from "../../../test/support/consumer-metrics.ts";
import { queueWorker } from "../../../test/support/queue-delivery.ts";
import { handleDeadLetterBatch } from "./index.ts";

const available = inject("postgresAvailable");
const bindings = env as unknown as { HYPERDRIVE: Hyperdrive };

const worker = queueWorker(exports);

function event() {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/notifications/test",
    type: "gov.notification.email.requested",
    time: "2026-11-22T08:00:00Z",
    data: { to: "someone@example.org" },
  };
}

function letter(body: unknown, failedAt: string, attempts = 3): DeadLetterMessage {
  return {
    kind: DEAD_LETTER_KIND,
    version: 1,
    queue: "notifications",
    consumer: "notifier",
    message_id: crypto.randomUUID(),
    attempts,
    enqueued_at: "2026-11-22T07:59:00.000Z",
    failed_at: failedAt,
    error: { code: "upstream_unavailable", message: "provider 503", reason: "exhausted", type: "EdgebusError" },
    body,
  };
}

const message = (body: unknown) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body });

async function rows(queue: string, eventId: string) {
  const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
  return sql`
    select consumer, event_type, error_code, error_message, failure_reason, attempts, failure_count, status,
           first_failed_at, last_failed_at, event, event_encoding, event_text, storage_note
    from edgebus.dead_letters where queue = ${queue} and event_id = ${eventId}`;
}

/** Every line the code under test logged while `work` ran. */
async function logsOf(work: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const record = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  const spies = [
    vi.spyOn(console, "log").mockImplementation(record),
    vi.spyOn(console, "warn").mockImplementation(record),
    vi.spyOn(console, "error").mockImplementation(record),
  ];
  try {
    await work();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

describe.skipIf(!available)("dead-letter consumer (workerd, real Postgres)", () => {
  it("stores an edgebus dead letter with its error, once, however often it is delivered", async () => {
    const original = event();
    const first = letter(original, "2026-11-22T08:00:00.000Z");
    const result = await worker.queue("notifications-dlq", [message(first), message(first)]);
    expect(result.explicitAcks).toHaveLength(2);
    await worker.queue("notifications-dlq", [message(first)]);
    const stored = await rows("notifications", original.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      consumer: "notifier",
      event_type: "gov.notification.email.requested",
      error_code: "upstream_unavailable",
      error_message: "provider 503",
      failure_reason: "exhausted",
      attempts: 3,
      failure_count: 1,
      status: "pending",
      event: original,
    });
  });

  it("counts each batch once in edgebus.consumer_metrics, aged by the original event's time", async () => {
    const queue = metricsQueue("notifications-dlq");
    const result = await worker.queue(queue, [
      message(letter(event(), "2026-11-22T08:00:00.000Z")),
      message(letter(event(), "2026-11-22T08:00:00.000Z")),
      message("moved by the platform, not an event"),
      // An event the platform moved after max_retries, as the producer sent it: its JSON text.
      message(JSON.stringify(event())),
    ]);
    expect(result.explicitAcks).toHaveLength(4);
    const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
    expect(await consumerMetricsTotals(sql, "dead-letter", queue)).toEqual({
      applied: 4,
      duplicate: 0,
      retried: 0,
      dead_lettered: 0,
      batches: 1,
      batch_size_sum: 4,
      // The two letters and the moved event carry an event with its time; the bare string has none.
      event_age_count: 3,
      enqueue_age_count: 4,
    });
  });

  it("counts a later failure of the same event and reopens a replayed row", async () => {
    const original = event();
    await worker.queue("notifications-dlq", [message(letter(original, "2026-11-22T08:00:00.000Z"))]);
    const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
    await sql`update edgebus.dead_letters set status = 'replayed', replayed_at = now()
              where queue = 'notifications' and event_id = ${original.id}`;
    await worker.queue("notifications-dlq", [message(letter(original, "2026-11-22T09:30:00.000Z", 2))]);
    const [row] = await rows("notifications", original.id);
    expect(row).toMatchObject({ attempts: 5, failure_count: 2, status: "pending" });
    expect(new Date(row?.first_failed_at).toISOString()).toBe("2026-11-22T08:00:00.000Z");
    expect(new Date(row?.last_failed_at).toISOString()).toBe("2026-11-22T09:30:00.000Z");
  });

  it("stores a bare body the platform moved, and a body that is not even a CloudEvent", async () => {
    const moved = event();
    const garbage = message("not json-shaped at all");
    await worker.queue("archive-dlq", [message(moved), garbage]);
    expect(await rows("archive", moved.id)).toEqual([
      expect.objectContaining({ consumer: "unknown", failure_reason: "platform", error_code: null, event: moved }),
    ]);
    expect(await rows("archive", `message:${garbage.id}`)).toEqual([
      expect.objectContaining({ event: "not json-shaped at all", failure_reason: "platform" }),
    ]);
  });

  it("retries the batch with backoff while Postgres is unreachable", async () => {
    const retried = new Map<string, number | undefined>();
    const acked: string[] = [];
    const body = letter(event(), "2026-11-22T08:00:00.000Z");
    const messages: QueueMessage[] = [1, 2].map((n) => ({
      id: `m${n}`,
      timestamp: new Date(),
      attempts: 2,
      body,
      ack: () => acked.push(`m${n}`),
      retry: (options) => retried.set(`m${n}`, options?.delaySeconds),
    }));
    await handleDeadLetterBatch(
      { queue: "notifications-dlq", messages },
      { HYPERDRIVE: { connectionString: "postgres://postgres:postgres@127.0.0.1:1/edgebus" } },
    );
    expect(acked).toEqual([]);
    expect([...retried.keys()]).toEqual(["m1", "m2"]);
    for (const delay of retried.values()) expect(delay).toBeGreaterThanOrEqual(1);
  });

  it("stores every letter of a batch when one holds text Postgres cannot (NUL, an unpaired surrogate)", async () => {
    const letters = Array.from({ length: 20 }, () => event());
    const poisoned = letters[7] as Omit<ReturnType<typeof event>, "data"> & { data: unknown };
    poisoned.data = {
      to: "someone@example.org",
      applicant: { name: "a\u0000b", notes: ["fine", { text: "x\uD800y" }] },
    };
    const result = await worker.queue(
      "notifications-dlq",
      letters.map((body) => message(letter(body, "2026-11-22T08:00:00.000Z"))),
    );
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(20);
    for (const body of letters) expect(await rows("notifications", body.id)).toHaveLength(1);

    const clean = await rows("notifications", (letters[0] as { id: string }).id);
    expect(clean[0]).toMatchObject({ event_encoding: "jsonb", event_text: null, storage_note: null });
    const [stored] = await rows("notifications", poisoned.id);
    expect(stored).toMatchObject({ event_encoding: "json_text", failure_reason: "exhausted", attempts: 3 });
    // The exact body, NUL and lone surrogate included, comes back from event_text.
    expect(JSON.parse(stored?.event_text)).toEqual(poisoned);
    // `event` is a readable copy with the characters Postgres refuses replaced by U+FFFD.
    expect(stored?.event.data.applicant).toEqual({ name: "a\uFFFDb", notes: ["fine", { text: "x\uFFFDy" }] });
    expect(stored?.storage_note).toMatch(/NUL/);
    expect(stored?.storage_note).toMatch(/unpaired surrogate/);
    expect(stored?.storage_note).toContain("$.body.data.applicant.name");
  });

  it("retries a batch Postgres refuses as a whole letter by letter, and stores the refused letter encoded", async () => {
    const bodies = [event(), event(), event()];
    // attempts beyond Postgres integer range: the whole statement fails with 22003.
    const oversized = { ...letter(bodies[1], "2026-11-22T08:00:00.000Z"), attempts: 3_000_000_000 };
    const result = await worker.queue("notifications-dlq", [
      message(letter(bodies[0], "2026-11-22T08:00:00.000Z")),
      message(oversized),
      message(letter(bodies[2], "2026-11-22T08:00:00.000Z")),
    ]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(3);
    expect(await rows("notifications", bodies[0]?.id as string)).toEqual([
      expect.objectContaining({ event_encoding: "jsonb", attempts: 3 }),
    ]);
    expect(await rows("notifications", bodies[2]?.id as string)).toEqual([
      expect.objectContaining({ event_encoding: "jsonb", attempts: 3 }),
    ]);
    const [refused] = await rows("notifications", bodies[1]?.id as string);
    expect(refused).toMatchObject({ event_encoding: "json_text", attempts: 2_147_483_647 });
    expect(JSON.parse(refused?.event_text)).toEqual(bodies[1]);
    expect(refused?.storage_note).toMatch(/22003/);
  });

  it("a database without the tables (code deployed before the migrations) is retried and says to run them", async () => {
    const admin = openDatabase(bindings.HYPERDRIVE.connectionString);
    const name = `edgebus_unmigrated_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await admin`create database ${admin(name)}`;
    try {
      const url = new URL(bindings.HYPERDRIVE.connectionString);
      url.pathname = `/${name}`;
      const retried = new Map<string, number | undefined>();
      const acked: string[] = [];
      const messages: QueueMessage[] = [1, 2].map((n) => ({
        id: `m${n}`,
        timestamp: new Date(),
        attempts: 1,
        body: letter(event(), "2026-11-22T08:00:00.000Z"),
        ack: () => acked.push(`m${n}`),
        retry: (options) => retried.set(`m${n}`, options?.delaySeconds),
      }));
      const logs = await logsOf(() =>
        handleDeadLetterBatch(
          { queue: "notifications-dlq", messages },
          { HYPERDRIVE: { connectionString: url.toString() } },
        ),
      );
      expect(acked).toEqual([]);
      expect([...retried.keys()]).toEqual(["m1", "m2"]);
      const advice = logs.filter((line) => line.includes("npm run migrate"));
      expect(advice.length).toBeGreaterThan(0);
      expect(advice[0]).toContain("42P01");
    } finally {
      await admin`drop database if exists ${admin(name)} with (force)`;
    }
  });
});
