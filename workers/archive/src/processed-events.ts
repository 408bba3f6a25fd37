import type { ProcessedEvents } from "#shared/consumers/with-dedup.ts";
import { type Database, databaseError } from "#shared/db/client.ts";

/**
 * `edgebus.processed_events` as the `withDedup` ledger, for consumers whose effect is outside
 * Postgres (notifications). Consumers that write Postgres record inside their own transaction.
 */
export function postgresProcessedEvents(sql: Database): ProcessedEvents {
  return {
    async has(consumer, source, id) {
      try {
        const rows = await sql`
          select 1 from edgebus.processed_events
          where consumer = ${consumer} and source = ${source} and id = ${id}`;
        return rows.length > 0;
      } catch (thrown) {
        throw databaseError(thrown, "reading processed_events");
      }
    },
    async record(consumer, source, id) {
      try {
        await sql`
          insert into edgebus.processed_events (consumer, source, id)
          values (${consumer}, ${source}, ${id})
          on conflict do nothing`;
      } catch (thrown) {
        throw databaseError(thrown, "recording processed_events");
      }
    },
  };
}

/**
 * Deletes ledger rows older than `retentionDays`, in bounded chunks. Safe once a redelivery of
 * the event is impossible: Cloudflare Queues keeps a message at most 14 days, and the effects
 * themselves stay idempotent without the ledger (version guard in citizen_refs, unique
 * idempotency keys in notifications). Returns rows deleted and whether it finished.
 */
export async function pruneProcessedEvents(
  sql: Database,
  {
    retentionDays,
    chunkSize = 5000,
    maxChunks = 50,
  }: { retentionDays: number; chunkSize?: number; maxChunks?: number },
): Promise<{ deleted: number; done: boolean }> {
  let deleted = 0;
  for (let chunk = 0; chunk < maxChunks; chunk++) {
    const rows = await sql`
      delete from edgebus.processed_events
      where (consumer, source, id) in (
        select consumer, source, id from edgebus.processed_events
        where processed_at < now() - make_interval(days => ${retentionDays}::int)
        limit ${chunkSize}::int
      )
      returning 1`;
    deleted += rows.length;
    if (rows.length < chunkSize) return { deleted, done: true };
  }
  return { deleted, done: false };
}
