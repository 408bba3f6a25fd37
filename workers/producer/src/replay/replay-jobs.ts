/**
 * Replay jobs in `edgebus.replay_jobs` (migration 0009): creating one (selection fixed and
 * counted in the same transaction), reading its progress, and the state changes the job runner
 * makes. The row is the job's only state, so any process can report progress and a restarted
 * runner continues from `cursor`.
 */

import type { Database } from "#shared/db/client.ts";
import { type ArchiveSelection, countArchived } from "../db/archive-replay-store.ts";
import { countPendingDeadLetters, type DeadLetterFilter } from "../db/dead-letter-admin-store.ts";
import { REBUILDABLE_READ_MODELS, resetReadModel } from "../db/read-model-rebuild.ts";

export type ReplayJobKind = "archive" | "dead-letters";
export type ReplayJobStatus = "running" | "completed" | "failed" | "cancelled";

/** Consecutive failed ticks after which a job gives up (status `failed`, reason in `last_error`). */
export const MAX_TICK_FAILURES = 10;

export interface ReplayJobRow {
  id: string;
  kind: ReplayJobKind;
  status: ReplayJobStatus;
  target_queue: string | null;
  filter: ArchiveSelection | DeadLetterFilter;
  upper_bound: string;
  rate_per_second: number;
  requested_by: string;
  total: string;
  sent: string;
  cursor: Record<string, unknown> | null;
  failures: number;
  last_error: string | null;
  rebuild: boolean;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** A job as `GET /v1/replay/{id}` shows it. */
export interface ReplayJobView {
  id: string;
  kind: ReplayJobKind;
  status: ReplayJobStatus;
  /** Archive replays: the target queue; dead-letter redrives: null (each goes back where it failed). */
  queue: string | null;
  filter: ArchiveSelection | DeadLetterFilter;
  rebuild: boolean;
  rate_per_second: number;
  requested_by: string;
  total: number;
  sent: number;
  remaining: number;
  /** sent / total, 0..1 (1 when total is 0). */
  progress: number;
  /** Seconds left at the job's rate; 0 once finished. */
  eta_seconds: number;
  failures: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export function toJobView(row: ReplayJobRow): ReplayJobView {
  const total = Number(row.total);
  const sent = Number(row.sent);
  const remaining = row.status === "running" ? Math.max(0, total - sent) : 0;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    queue: row.target_queue,
    filter: row.filter,
    rebuild: row.rebuild,
    rate_per_second: row.rate_per_second,
    requested_by: row.requested_by,
    total,
    sent,
    remaining,
    progress: total === 0 ? 1 : Math.min(1, sent / total),
    eta_seconds: Math.ceil(remaining / row.rate_per_second),
    failures: row.failures,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    finished_at: row.finished_at === null ? null : row.finished_at.toISOString(),
  };
}

function newJobId(): string {
  return `rj_${crypto.randomUUID().replaceAll("-", "")}`;
}

export interface ArchiveReplayRequest {
  readonly selection: ArchiveSelection;
  readonly queue: string;
  readonly ratePerSecond: number;
  readonly requestedBy: string;
  /** Empty the read model fed by `queue` (and its ledger) first; only for REBUILDABLE_READ_MODELS. */
  readonly rebuild: boolean;
}

/**
 * Creates an archive replay job: counts the selection, fixes its upper bound and, for a
 * rebuild, empties the read model and its consumer's ledger — all in one transaction, so a
 * rebuild never leaves an emptied table without the job that refills it.
 */
export async function createArchiveReplayJob(
  sql: Database,
  request: ArchiveReplayRequest,
): Promise<{ job: ReplayJobView; reset?: { rows: number; ledgerRows: number } }> {
  return sql.begin(async (transaction) => {
    // A transaction runs the same queries as the client.
    const tx = transaction as unknown as Database;
    const { total, upperBound } = await countArchived(tx, request.selection);
    let reset: { rows: number; ledgerRows: number } | undefined;
    if (request.rebuild) {
      const model = REBUILDABLE_READ_MODELS[request.queue];
      if (model === undefined) throw new Error(`queue ${request.queue} feeds no rebuildable read model`);
      reset = await resetReadModel(tx, model);
    }
    const [row] = await tx<ReplayJobRow[]>`
      insert into edgebus.replay_jobs
        (id, kind, target_queue, filter, upper_bound, rate_per_second, requested_by, total, rebuild)
      values (${newJobId()}, 'archive', ${request.queue}, ${JSON.stringify(request.selection)}::text::jsonb,
              ${upperBound}::bigint, ${request.ratePerSecond}::int, ${request.requestedBy}, ${total}::bigint,
              ${request.rebuild})
      returning *`;
    return { job: toJobView(row as ReplayJobRow), ...(reset === undefined ? {} : { reset }) };
  }) as Promise<{ job: ReplayJobView; reset?: { rows: number; ledgerRows: number } }>;
}

export interface DeadLetterRedriveRequest {
  readonly filter: DeadLetterFilter;
  readonly ratePerSecond: number;
  readonly requestedBy: string;
}

/** Creates a bulk redrive of the pending dead letters matching `filter` (those existing now). */
export async function createDeadLetterRedriveJob(
  sql: Database,
  request: DeadLetterRedriveRequest,
): Promise<{ job: ReplayJobView; byQueue: Record<string, number> }> {
  const filter: DeadLetterFilter = { ...request.filter, status: "pending" };
  const { total, byQueue, upperBound } = await countPendingDeadLetters(sql, filter);
  const [row] = await sql<ReplayJobRow[]>`
    insert into edgebus.replay_jobs
      (id, kind, target_queue, filter, upper_bound, rate_per_second, requested_by, total)
    values (${newJobId()}, 'dead-letters', null, ${JSON.stringify(filter)}::text::jsonb, ${upperBound}::bigint,
            ${request.ratePerSecond}::int, ${request.requestedBy}, ${total}::bigint)
    returning *`;
  return { job: toJobView(row as ReplayJobRow), byQueue };
}

export async function getReplayJobRow(sql: Database, id: string): Promise<ReplayJobRow | undefined> {
  const [row] = await sql<ReplayJobRow[]>`select * from edgebus.replay_jobs where id = ${id}`;
  return row;
}

export async function getReplayJob(sql: Database, id: string): Promise<ReplayJobView | undefined> {
  const row = await getReplayJobRow(sql, id);
  return row === undefined ? undefined : toJobView(row);
}

/** Counts a sent slice and moves the cursor; a no-op unless the job is still running. */
export async function advanceReplayJob(
  sql: Database,
  id: string,
  slice: { sent: number; cursor: Record<string, unknown> },
): Promise<void> {
  await sql`
    update edgebus.replay_jobs set
      sent = sent + ${slice.sent}::bigint, cursor = ${JSON.stringify(slice.cursor)}::text::jsonb,
      failures = 0, last_error = null, updated_at = now()
    where id = ${id} and status = 'running'`;
}

export async function finishReplayJob(
  sql: Database,
  id: string,
  status: Exclude<ReplayJobStatus, "running">,
  error?: string,
): Promise<ReplayJobView | undefined> {
  const [row] = await sql<ReplayJobRow[]>`
    update edgebus.replay_jobs set
      status = ${status}, finished_at = now(), updated_at = now(),
      last_error = coalesce(${error ?? null}::text, last_error)
    where id = ${id} and status = 'running'
    returning *`;
  return row === undefined ? undefined : toJobView(row);
}

/**
 * Records a failed tick. Returns true when the job has now failed for good
 * (`MAX_TICK_FAILURES` in a row) and was marked `failed`.
 */
export async function recordTickFailure(sql: Database, id: string, error: string): Promise<boolean> {
  const [row] = await sql<{ status: ReplayJobStatus }[]>`
    update edgebus.replay_jobs set
      failures = failures + 1, last_error = ${error}, updated_at = now(),
      status = case when failures + 1 >= ${MAX_TICK_FAILURES}::int then 'failed' else status end,
      finished_at = case when failures + 1 >= ${MAX_TICK_FAILURES}::int then now() else finished_at end
    where id = ${id} and status = 'running'
    returning status`;
  return row?.status === "failed";
}
