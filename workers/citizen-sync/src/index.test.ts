import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { openDatabase } from "#shared/db/client.ts";
import { consumerMetricsTotals, metricsQueue } from "../../../test/support/consumer-metrics.ts";
import {
  queueMessage,
  queueWorker,
  recordingBatch as recordingBatchFrom,
  recordingDeadLetters,
} from "../../../test/support/queue-delivery.ts";
import { handleCitizenSyncBatch } from "./index.ts";

const QUEUE = "permits-citizen-sync";
const bindings = env as unknown as { DEAD_LETTER_QUEUE: Queue; HYPERDRIVE: Hyperdrive };
/** The Worker under test through workerd's real queue dispatch (reports delaySeconds). */
const worker = queueWorker(exports);

const available = inject("postgresAvailable");

const randomCitizenId = () => 1_000_000_000 + Math.floor(Math.random() * 8_000_000_000_000);

function citizenEvent(type: string, citizenId: number, version: number, data: Record<string, unknown> = {}) {
  const base: Record<string, Record<string, unknown>> = {
    "gov.auth.citizen.created": {
      id: citizenId,
      name: "Amina Haddad",
      email: "amina.haddad@example.org",
      phone: "+35312345678",
      address: { line1: "12 Harbour Road", city: "Dublin", postal_code: "D02 X285", country: "IE" },
      email_verified: true,
      identity_verified: false,
      created_at: "2026-03-14T09:21:07Z",
    },
    "gov.auth.citizen.deleted": {
      id: citizenId,
      deleted_at: "2026-09-30T08:00:00Z",
      reason: "citizen_request",
      deleted_by: "system",
    },
    "gov.auth.citizen.verified": {
      id: citizenId,
      verification_type: "identity",
      verified_by: "system",
      verification_method: "eid",
      document_reference: null,
      verified_at: "2026-03-15T11:02:44Z",
    },
  };
  const updated = {
    ...base["gov.auth.citizen.created"],
    updated_at: "2026-05-02T16:40:00Z",
    changes: { name: { old: "Amina Haddad", new: data.name ?? "Amina H." } },
  };
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/identity/test",
    type,
    time: "2026-11-22T08:00:00Z",
    eventversion: version,
    partitionkey: String(citizenId),
    data: { ...(type === "gov.auth.citizen.updated" ? updated : base[type]), ...data },
  };
}

const message = queueMessage;
const recordingBatch = (messages: ReturnType<typeof queueMessage>[]) => recordingBatchFrom(QUEUE, messages);
/** The Worker's env with the real DLQ binding, every dead letter recorded. */
const recordingEnv = (overrides: Record<string, unknown> = {}) => recordingDeadLetters(env, overrides);

/** Nothing listens on port 1: connecting is refused at once. */
const refusedDatabase = { HYPERDRIVE: { connectionString: "postgres://postgres@127.0.0.1:1/edgebus" } };

async function citizenRow(citizenId: number) {
  const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
  const [row] = await sql`
    select name, email_verified, identity_verified, event_version::int as version, deleted_at is not null as deleted
    from permits.citizen_refs where citizen_id = ${citizenId}`;
  return row;
}

describe.skipIf(!available)("citizen-sync (workerd, real Postgres)", () => {
  it("applies a mixed batch through the real queue dispatch: reorder, duplicate, poison, early verification", async () => {
    const id = randomCitizenId();
    const created = citizenEvent("gov.auth.citizen.created", id, 1);
    const updated = citizenEvent("gov.auth.citizen.updated", id, 2, { name: "Amina H." });
    const earlyVerification = citizenEvent("gov.auth.citizen.verified", randomCitizenId(), 3);
    const schemaInvalid = citizenEvent("gov.auth.citizen.created", randomCitizenId(), 1, { email: "not-an-email" });
    // The first two as the producer sends events (their JSON text), the rest as json bodies.
    const messages = [
      message(JSON.stringify(updated)),
      message(JSON.stringify(created)),
      message(created),
      message("not a cloud event"),
      message(schemaInvalid),
      message(citizenEvent("gov.permits.application.submitted", id, 1)),
      message(earlyVerification),
    ];
    const result = await worker.queue(QUEUE, messages);
    expect(result.outcome).toBe("ok");
    const ids = messages.map((m) => m.id);
    expect([...result.explicitAcks].sort()).toEqual(ids.slice(0, 6).sort());
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]?.msgId).toBe(ids[6]);
    expect(result.retryMessages[0]?.delaySeconds).toBe(1);
    expect(await citizenRow(id)).toMatchObject({ name: "Amina H.", version: 2, deleted: false });
  });

  it("counts each batch once in edgebus.consumer_metrics: applied, duplicate, retried, dead-lettered", async () => {
    const queue = metricsQueue(QUEUE);
    const id = randomCitizenId();
    const created = citizenEvent("gov.auth.citizen.created", id, 1);
    const first = await worker.queue(queue, [
      message(created),
      message(created),
      message(citizenEvent("gov.auth.citizen.verified", randomCitizenId(), 1)),
      message("not a cloud event"),
    ]);
    expect(first.outcome).toBe("ok");
    // A redelivery: the dedup ledger (edgebus.processed_events) recognises it.
    await worker.queue(queue, [message(created, 2)]);
    const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
    expect(await consumerMetricsTotals(sql, "citizen-sync:permits", queue)).toEqual({
      applied: 1,
      duplicate: 2,
      retried: 1,
      dead_lettered: 1,
      batches: 2,
      batch_size_sum: 5,
      // The body that is not an event has no time.
      event_age_count: 4,
      enqueue_age_count: 5,
    });
  });

  it("dead-letters poison with its error and keeps the rest of the batch", async () => {
    const id = randomCitizenId();
    const schemaInvalid = citizenEvent("gov.auth.citizen.created", randomCitizenId(), 1, { email: "nope" });
    const noVersion = { ...citizenEvent("gov.auth.citizen.created", randomCitizenId(), 1), eventversion: undefined };
    const messages = [
      message(schemaInvalid),
      message(citizenEvent("gov.auth.citizen.created", id, 1)),
      message(noVersion),
    ];
    const { batch, acked, retried } = recordingBatch(messages);
    const { env: testEnv, letters } = recordingEnv();
    await handleCitizenSyncBatch(batch, testEnv);
    expect(acked.size).toBe(3);
    expect(retried.size).toBe(0);
    expect(letters.map((l) => [l.message_id, l.error.code, l.error.reason])).toEqual([
      [messages[0]?.id, "schema_validation_failed", "permanent"],
      [messages[2]?.id, "invalid_envelope", "permanent"],
    ]);
    expect(letters[0]).toMatchObject({ queue: QUEUE, consumer: "citizen-sync:permits", body: schemaInvalid });
    expect(JSON.stringify(letters[0]?.error.details)).toContain("data.email");
    expect(await citizenRow(id)).toMatchObject({ version: 1 });
  });

  it("retries with backoff while Postgres refuses connections, then applies on redelivery", async () => {
    const id = randomCitizenId();
    const event = citizenEvent("gov.auth.citizen.created", id, 1);
    const first = recordingBatch([message(event, 3)]);
    const down = recordingEnv(refusedDatabase);
    await handleCitizenSyncBatch(first.batch, down.env);
    expect(first.acked.size).toBe(0);
    const [delay] = [...first.retried.values()];
    // attempt 3 → full jitter over [1, 4] seconds
    expect(delay).toBeGreaterThanOrEqual(1);
    expect(delay).toBeLessThanOrEqual(4);
    expect(down.letters).toHaveLength(0);
    expect(await citizenRow(id)).toBeUndefined();

    const second = recordingBatch([message(event, 4)]);
    await handleCitizenSyncBatch(second.batch, recordingEnv().env);
    expect(second.acked.size).toBe(1);
    expect(await citizenRow(id)).toMatchObject({ name: "Amina Haddad", version: 1 });
  });

  it("dead-letters with reason exhausted when the last delivery still fails", async () => {
    const event = citizenEvent("gov.auth.citizen.created", randomCitizenId(), 1);
    // MAX_RETRIES = 5 in wrangler.permits.toml: delivery 6 is the last one.
    const { batch, acked, retried } = recordingBatch([message(event, 6)]);
    const { env: testEnv, letters } = recordingEnv(refusedDatabase);
    await handleCitizenSyncBatch(batch, testEnv);
    expect(acked.size).toBe(1);
    expect(retried.size).toBe(0);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      attempts: 6,
      error: { code: "upstream_unavailable", reason: "exhausted" },
      body: event,
    });
  });

  it("keeps a tombstone across batches and ignores a stale update after it", async () => {
    const id = randomCitizenId();
    await worker.queue(QUEUE, [message(citizenEvent("gov.auth.citizen.created", id, 1))]);
    await worker.queue(QUEUE, [message(citizenEvent("gov.auth.citizen.deleted", id, 3))]);
    const stale = await worker.queue(QUEUE, [
      message(citizenEvent("gov.auth.citizen.updated", id, 2, { name: "Zombie" })),
    ]);
    expect(stale.explicitAcks).toHaveLength(1);
    expect(await citizenRow(id)).toMatchObject({ name: null, deleted: true, version: 3 });
  });

  it("sets verification flags after the citizen is known, version-guarded", async () => {
    const id = randomCitizenId();
    await worker.queue(QUEUE, [message(citizenEvent("gov.auth.citizen.created", id, 1))]);
    const verified = await worker.queue(QUEUE, [message(citizenEvent("gov.auth.citizen.verified", id, 2))]);
    expect(verified.explicitAcks).toHaveLength(1);
    expect(await citizenRow(id)).toMatchObject({ identity_verified: true, version: 2 });
  });
});
