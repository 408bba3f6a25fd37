/**
 * Reads `edgebus.event_archive` for archive replay: events whose type matches a glob and whose
 * CloudEvents `time` is in `[from, to)`, walked in (time, seq) order with a keyset cursor and
 * bounded by the highest `seq` that existed when the replay started (so a replay always ends).
 * The events come back exactly as archived: same `source` + `id`, so idempotent consumers
 * skip what they already applied.
 */

import type { Database } from "#shared/db/client.ts";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { likePatternOf } from "./sql-pattern.ts";

/** What an archive replay selects (API field names). */
export interface ArchiveSelection {
  /** Type glob, e.g. `gov.auth.citizen.*`. */
  readonly type: string;
  /** Inclusive lower bound on the event's `time` (ISO timestamp). */
  readonly from: string;
  /** Exclusive upper bound on the event's `time` (ISO timestamp). */
  readonly to: string;
}

/** Position after the last replayed event; `time` keeps microseconds. */
export interface ArchiveCursor {
  readonly time: string;
  readonly seq: number;
}

export interface ArchivedEvent {
  readonly seq: number;
  readonly event: CloudEventRecord;
  readonly cursor: ArchiveCursor;
}

function selectionCondition(sql: Database, selection: ArchiveSelection) {
  return sql`type like ${likePatternOf(selection.type)} escape '\\'
    and time >= ${selection.from}::timestamptz and time < ${selection.to}::timestamptz`;
}

/** How many archived events match, and the highest seq now (the replay's upper bound). */
export async function countArchived(
  sql: Database,
  selection: ArchiveSelection,
): Promise<{ total: number; upperBound: number }> {
  const [row] = await sql<{ total: string; upper_bound: string | null }[]>`
    select count(*) as total, (select max(seq) from edgebus.event_archive) as upper_bound
    from edgebus.event_archive where ${selectionCondition(sql, selection)}`;
  return { total: Number(row?.total ?? 0), upperBound: Number(row?.upper_bound ?? 0) };
}

/** The next `limit` events after `after` (all from the start when undefined), oldest first. */
export async function nextArchivedEvents(
  sql: Database,
  selection: ArchiveSelection,
  options: { upperBound: number; after: ArchiveCursor | undefined; limit: number },
): Promise<ArchivedEvent[]> {
  const after =
    options.after === undefined
      ? sql`true`
      : sql`(time, seq) > (${options.after.time}::timestamptz, ${options.after.seq}::bigint)`;
  const rows = await sql<{ seq: string; cursor_time: string; event: CloudEventRecord }[]>`
    select seq, event,
           to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_time
    from edgebus.event_archive
    where ${selectionCondition(sql, selection)} and seq <= ${options.upperBound}::bigint and ${after}
    order by time, seq
    limit ${options.limit}::int`;
  return rows.map((row) => ({
    seq: Number(row.seq),
    event: row.event,
    cursor: { time: row.cursor_time, seq: Number(row.seq) },
  }));
}
