/**
 * The admin side of `edgebus.dead_letters` (the dead-letter Worker writes, this reads and
 * redrives): list with filters and keyset pagination, show one entry, replay (mark `replayed`
 * with who/when, then send back to the queue it failed on) and discard with a reason.
 *
 * Replay guarantees: rows are marked `replayed` and sent inside one transaction, so a send that
 * fails leaves them `pending` (nothing is lost); rows are locked while sending, so a new failure
 * of the same event recorded meanwhile waits and then puts the row back to `pending` (never
 * hidden as replayed). A commit that fails after a successful send re-sends later: at-least-once,
 * and consumers ignore an event (source + id) they already applied.
 */
import type { Database } from "#shared/db/client.ts";
import { likePatternOf } from "./sql-pattern.ts";

export const DEAD_LETTER_STATUSES = ["pending", "replayed", "discarded"] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/** Filter of the list and the bulk redrive (API field names). Every field narrows. */
export interface DeadLetterFilter {
  readonly queue?: string;
  readonly consumer?: string;
  /** Event type glob (`gov.permits.*`). */
  readonly type?: string;
  /** Class of the failure's cause (`PostgresError`, `EdgebusError`…). */
  readonly error_type?: string;
  /** EdgebusError code (`bad_request`, `upstream_unavailable`…). */
  readonly error_code?: string;
  /** Default `pending`; `any` lists every status. Bulk redrive always takes `pending` only. */
  readonly status?: DeadLetterStatus | "any";
  /** `last_failed_at >= from` (ISO timestamp). */
  readonly from?: string;
  /** `last_failed_at < to` (ISO timestamp). */
  readonly to?: string;
}

/** One dead letter as the admin API shows it. */
export interface DeadLetterView {
  id: number;
  queue: string;
  consumer: string;
  status: DeadLetterStatus;
  event: { source: string; id: string; type: string | null };
  message_id: string | null;
  error: {
    code: string | null;
    type: string | null;
    message: string | null;
    reason: "permanent" | "exhausted" | "platform";
    details: unknown;
  };
  attempts: number;
  failure_count: number;
  first_failed_at: string;
  last_failed_at: string;
  replayed_at: string | null;
  replayed_by: string | null;
  replay_count: number;
  discarded_at: string | null;
  discarded_by: string | null;
  discarded_reason: string | null;
}

/** A dead letter with the original message body (the CloudEvent that failed). */
export interface DeadLetterDetail extends DeadLetterView {
  body: unknown;
}

interface DeadLetterRow {
  id: string;
  queue: string;
  consumer: string;
  status: DeadLetterStatus;
  event_source: string;
  event_id: string;
  event_type: string | null;
  message_id: string | null;
  error_code: string | null;
  error_type: string | null;
  error_message: string | null;
  failure_reason: "permanent" | "exhausted" | "platform";
  error_details: unknown;
  attempts: number;
  failure_count: number;
  first_failed_at: Date;
  last_failed_at: Date;
  replayed_at: Date | null;
  replayed_by: string | null;
  replay_count: number;
  discarded_at: Date | null;
  discarded_by: string | null;
  discarded_reason: string | null;
  /** `last_failed_at` with microseconds, for the cursor (a JS Date keeps milliseconds only). */
  cursor_time: string;
  event?: unknown;
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

function toView(row: DeadLetterRow): DeadLetterView {
  return {
    id: Number(row.id),
    queue: row.queue,
    consumer: row.consumer,
    status: row.status,
    event: { source: row.event_source, id: row.event_id, type: row.event_type },
    message_id: row.message_id,
    error: {
      code: row.error_code,
      type: row.error_type,
      message: row.error_message,
      reason: row.failure_reason,
      details: row.error_details ?? null,
    },
    attempts: row.attempts,
    failure_count: row.failure_count,
    first_failed_at: row.first_failed_at.toISOString(),
    last_failed_at: row.last_failed_at.toISOString(),
    replayed_at: iso(row.replayed_at),
    replayed_by: row.replayed_by,
    replay_count: row.replay_count,
    discarded_at: iso(row.discarded_at),
    discarded_by: row.discarded_by,
    discarded_reason: row.discarded_reason,
  };
}

const VIEW_COLUMNS = (sql: Database) => sql`
  id, queue, consumer, status, event_source, event_id, event_type, message_id, error_code, error_type,
  error_message, failure_reason, error_details, attempts, failure_count, first_failed_at, last_failed_at,
  replayed_at, replayed_by, replay_count, discarded_at, discarded_by, discarded_reason,
  to_char(last_failed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_time`;

/** The filter as one SQL condition (`true` when empty). */
function filterCondition(sql: Database, filter: DeadLetterFilter) {
  const conditions = [];
  const status = filter.status ?? "pending";
  if (status !== "any") conditions.push(sql`status = ${status}`);
  if (filter.queue !== undefined) conditions.push(sql`queue = ${filter.queue}`);
  if (filter.consumer !== undefined) conditions.push(sql`consumer = ${filter.consumer}`);
  if (filter.type !== undefined) conditions.push(sql`event_type like ${likePatternOf(filter.type)} escape '\\'`);
  if (filter.error_type !== undefined) conditions.push(sql`error_type = ${filter.error_type}`);
  if (filter.error_code !== undefined) conditions.push(sql`error_code = ${filter.error_code}`);
  if (filter.from !== undefined) conditions.push(sql`last_failed_at >= ${filter.from}::timestamptz`);
  if (filter.to !== undefined) conditions.push(sql`last_failed_at < ${filter.to}::timestamptz`);
  return conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`);
}

/** Position after the last entry of a page: newest failures first, then by id. */
export interface DeadLetterCursor {
  readonly last_failed_at: string;
  readonly id: number;
}

export interface DeadLetterPage {
  entries: DeadLetterView[];
  /** Undefined on the last page. */
  next: DeadLetterCursor | undefined;
}

/** A page of dead letters, newest failure first (keyset pagination: stable while rows are added). */
export async function listDeadLetters(
  sql: Database,
  filter: DeadLetterFilter,
  page: { limit: number; after?: DeadLetterCursor },
): Promise<DeadLetterPage> {
  const after =
    page.after === undefined
      ? sql`true`
      : sql`(last_failed_at, id) < (${page.after.last_failed_at}::timestamptz, ${page.after.id}::bigint)`;
  const rows = await sql<DeadLetterRow[]>`
    select ${VIEW_COLUMNS(sql)}
    from edgebus.dead_letters
    where ${filterCondition(sql, filter)} and ${after}
    order by last_failed_at desc, id desc
    limit ${page.limit + 1}::int`;
  const entries = rows.slice(0, page.limit).map(toView);
  const last = rows.length > page.limit ? rows[page.limit - 1] : undefined;
  return { entries, next: last === undefined ? undefined : { last_failed_at: last.cursor_time, id: Number(last.id) } };
}

export async function getDeadLetter(sql: Database, id: number): Promise<DeadLetterDetail | undefined> {
  const [row] = await sql<DeadLetterRow[]>`
    select ${VIEW_COLUMNS(sql)}, event from edgebus.dead_letters where id = ${id}::bigint`;
  return row === undefined ? undefined : { ...toView(row), body: row.event };
}

/** Matching pending dead letters per queue, up to `upperBound` (the highest id when the redrive starts). */
export async function countPendingDeadLetters(
  sql: Database,
  filter: DeadLetterFilter,
): Promise<{ total: number; byQueue: Record<string, number>; upperBound: number }> {
  const pending = { ...filter, status: "pending" as const };
  const rows = await sql<{ queue: string; count: string; max_id: string }[]>`
    select queue, count(*) as count, max(id) as max_id
    from edgebus.dead_letters where ${filterCondition(sql, pending)}
    group by queue order by queue`;
  const byQueue = Object.fromEntries(rows.map((row) => [row.queue, Number(row.count)]));
  return {
    total: rows.reduce((sum, row) => sum + Number(row.count), 0),
    byQueue,
    upperBound: rows.reduce((max, row) => Math.max(max, Number(row.max_id)), 0),
  };
}

/** What to replay: explicit ids, or the next slice of a filter walk (id order). */
export type ReplaySelection =
  | { readonly ids: readonly number[] }
  | {
      readonly filter: DeadLetterFilter;
      readonly afterId: number;
      readonly upperBound: number;
      readonly limit: number;
    };

/** A dead letter being sent back: where, and the original body. */
export interface Redrive {
  readonly id: number;
  readonly queue: string;
  readonly body: unknown;
}

/**
 * Marks the selected `pending` dead letters `replayed` by `by` and calls `send` with them, in one
 * transaction (see the module comment). Rows that are not pending (replayed or discarded
 * meanwhile) are left out. Returns what was sent, in id order.
 */
export async function replayDeadLetters(
  sql: Database,
  selection: ReplaySelection,
  by: string,
  send: (redrives: readonly Redrive[]) => Promise<void>,
): Promise<Redrive[]> {
  return sql.begin(async (transaction) => {
    // A transaction runs the same queries as the client.
    const tx = transaction as unknown as Database;
    const scope =
      "ids" in selection
        ? tx`id in ${tx(selection.ids.map((id) => String(id)))} and status = 'pending'`
        : tx`${filterCondition(tx, { ...selection.filter, status: "pending" })}
             and id > ${selection.afterId}::bigint and id <= ${selection.upperBound}::bigint`;
    const limit = "ids" in selection ? selection.ids.length : selection.limit;
    const rows = await tx<{ id: string; queue: string; event: unknown }[]>`
      with picked as (
        select id from edgebus.dead_letters
        where ${scope}
        order by id
        limit ${limit}::int
        for update
      )
      update edgebus.dead_letters d set
        status = 'replayed', replayed_at = now(), replayed_by = ${by}, replay_count = d.replay_count + 1,
        updated_at = now()
      from picked where d.id = picked.id
      returning d.id, d.queue, d.event`;
    const redrives = rows
      .map((row) => ({ id: Number(row.id), queue: row.queue, body: row.event }))
      .sort((a, b) => a.id - b.id);
    if (redrives.length > 0) await send(redrives);
    return redrives;
  }) as Promise<Redrive[]>;
}

export type DiscardResult =
  | { readonly kind: "discarded"; readonly entry: DeadLetterView }
  | { readonly kind: "not-found" }
  | { readonly kind: "not-pending"; readonly status: DeadLetterStatus };

/** Discards a pending dead letter, keeping the row with who, when and why. */
export async function discardDeadLetter(sql: Database, id: number, by: string, reason: string): Promise<DiscardResult> {
  const [row] = await sql<DeadLetterRow[]>`
    update edgebus.dead_letters set
      status = 'discarded', discarded_at = now(), discarded_by = ${by}, discarded_reason = ${reason}, updated_at = now()
    where id = ${id}::bigint and status = 'pending'
    returning ${VIEW_COLUMNS(sql)}`;
  if (row !== undefined) return { kind: "discarded", entry: toView(row) };
  const [current] = await sql<{ status: DeadLetterStatus }[]>`
    select status from edgebus.dead_letters where id = ${id}::bigint`;
  return current === undefined ? { kind: "not-found" } : { kind: "not-pending", status: current.status };
}
