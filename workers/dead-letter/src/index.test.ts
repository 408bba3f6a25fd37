import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { QueueMessage } from "#shared/consumers/consumer-message.ts";
import { DEAD_LETTER_KIND, type DeadLetterMessage } from "#shared/consumers/dead-letter-message.ts";
import { openDatabase } from "#shared/db/client.ts";
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
           first_failed_at, last_failed_at, event
    from edgebus.dead_letters where queue = ${queue} and event_id = ${eventId}`;
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
});
