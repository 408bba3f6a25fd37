import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { openDatabase } from "#shared/db/client.ts";
import {
  queueMessage,
  queueWorker,
  recordingBatch,
  recordingDeadLetters,
} from "../../../test/support/queue-delivery.ts";
import { handleArchiveBatch, pruneExpiredEvents } from "./index.ts";

const available = inject("postgresAvailable");
const bindings = env as unknown as { HYPERDRIVE: Hyperdrive; DEAD_LETTER_QUEUE: Queue };

const worker = queueWorker(exports);

const source = `/archive-test/${crypto.randomUUID()}`;
function event(type = "gov.permits.application.submitted") {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source,
    type,
    time: "2026-11-20T10:00:00Z",
    subject: "APP-1",
    partitionkey: "APP-1",
    eventversion: 2,
    correlationid: "corr-1",
    data: { any: "thing" },
  };
}
const message = queueMessage;

describe.skipIf(!available)("archive consumer (workerd, real Postgres)", () => {
  const sql = () => openDatabase(bindings.HYPERDRIVE.connectionString);

  it("archives every event once, with its indexed attributes, through the real dispatch", async () => {
    const a = event();
    const b = event("gov.auth.citizen.created");
    const result = await worker.queue("archive", [message(a), message(b), message(a)]);
    expect(result.explicitAcks).toHaveLength(3);
    await worker.queue("archive", [message(b)]);
    const rows = await sql()`
      select id, type, subject, partitionkey, time, eventversion::int as eventversion, correlationid, event
      from edgebus.event_archive where source = ${source} order by type`;
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({
      id: a.id,
      type: a.type,
      subject: "APP-1",
      partitionkey: "APP-1",
      eventversion: 2,
      correlationid: "corr-1",
      event: a,
    });
    expect(new Date(rows[1]?.time).toISOString()).toBe("2026-11-20T10:00:00.000Z");
  });

  it("dead-letters what cannot be archived and archives the rest", async () => {
    const good = event();
    const { batch, acked } = recordingBatch("archive", [
      message(good),
      message({ ...event(), time: "yesterday" }),
      message(42),
    ]);
    const { env: testEnv, letters } = recordingDeadLetters(env);
    await handleArchiveBatch(batch, testEnv);
    expect(acked.size).toBe(3);
    expect(letters.map((l) => l.error.message)).toEqual([
      "time is not a timestamp",
      "message body is not a CloudEvent object",
    ]);
    expect(await sql()`select 1 from edgebus.event_archive where source = ${source} and id = ${good.id}`).toHaveLength(
      1,
    );
  });

  it("prunes archive and ledger rows older than their retention and keeps recent ones", async () => {
    const old = event();
    const recent = event();
    await worker.queue("archive", [message(old), message(recent)]);
    await sql()`update edgebus.event_archive set archived_at = now() - interval '1000 days'
                where source = ${source} and id = ${old.id}`;
    const consumer = `archive-test-${crypto.randomUUID()}`;
    await sql()`insert into edgebus.processed_events (consumer, source, id, processed_at)
                values (${consumer}, '/s', 'old', now() - interval '400 days'), (${consumer}, '/s', 'new', now())`;
    const result = await pruneExpiredEvents({
      ...env,
      ARCHIVE_RETENTION_DAYS: "900",
      ARCHIVE_PRUNE_CHUNK: "100",
      PROCESSED_EVENTS_RETENTION_DAYS: "365",
    });
    expect(result.archive.done).toBe(true);
    expect(result.archive.deleted).toBeGreaterThanOrEqual(1);
    expect(result.ledger.deleted).toBeGreaterThanOrEqual(1);
    const left =
      await sql()`select id from edgebus.event_archive where source = ${source} and id in (${old.id}, ${recent.id})`;
    expect(left.map((r) => r.id)).toEqual([recent.id]);
    const ledger = await sql()`select id from edgebus.processed_events where consumer = ${consumer}`;
    expect(ledger.map((r) => r.id)).toEqual(["new"]);
  });
});
