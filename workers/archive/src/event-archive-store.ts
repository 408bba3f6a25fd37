/**
 * `edgebus.event_archive`: every event once, for replay by type and time window.
 */

import type { Database } from "#shared/db/client.ts";
import { type CloudEventRecord, eventKey } from "#shared/envelope/cloud-event.ts";

/**
 * Appends events in one statement; an event already archived (same source + id) is skipped, so
 * redelivery is harmless. Returns how many rows were new.
 */
export async function archiveEvents(sql: Database, events: readonly CloudEventRecord[]): Promise<number> {
  return (await archiveNewEvents(sql, events)).size;
}

/** As `archiveEvents`, returning the `eventKey` (source + id) of each event that was new. */
export async function archiveNewEvents(sql: Database, events: readonly CloudEventRecord[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = events.map((event) => ({
    source: event.source,
    id: event.id,
    type: event.type,
    subject: event.subject ?? null,
    partitionkey: event.partitionkey ?? null,
    time: event.time,
    eventversion: event.eventversion ?? null,
    correlationid: event.correlationid ?? null,
    event,
  }));
  const inserted = await sql<{ source: string; id: string }[]>`
    insert into edgebus.event_archive (source, id, type, subject, partitionkey, time, eventversion, correlationid, event)
    select x.source, x.id, x.type, x.subject, x.partitionkey, x.time, x.eventversion, x.correlationid, x.event
    from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as x(
      source text, id text, type text, subject text, partitionkey text, time timestamptz, eventversion bigint,
      correlationid text, event jsonb
    )
    on conflict (source, id) do nothing
    returning source, id`;
  return new Set(inserted.map((row) => eventKey(row)));
}

export interface PruneOptions {
  /** Rows archived more than this many days ago are deleted. */
  readonly retentionDays: number;
  /** Rows per delete statement; keeps each transaction and its locks short. Default 5000. */
  readonly chunkSize?: number;
  /** Upper bound on statements per run, so one run stays within a Worker's limits. Default 50. */
  readonly maxChunks?: number;
}

/** Deletes archived events older than the retention, in bounded chunks. Returns rows deleted. */
export async function pruneArchive(sql: Database, options: PruneOptions): Promise<{ deleted: number; done: boolean }> {
  const chunkSize = options.chunkSize ?? 5000;
  const maxChunks = options.maxChunks ?? 50;
  let deleted = 0;
  for (let chunk = 0; chunk < maxChunks; chunk++) {
    const rows = await sql`
      delete from edgebus.event_archive
      where seq in (
        select seq from edgebus.event_archive
        where archived_at < now() - make_interval(days => ${options.retentionDays}::int)
        order by archived_at
        limit ${chunkSize}::int
      )
      returning 1`;
    deleted += rows.length;
    if (rows.length < chunkSize) return { deleted, done: true };
  }
  return { deleted, done: false };
}
