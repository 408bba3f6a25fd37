/**
 * One step of a replay job: send the next slice (at most one second's worth at the job's rate),
 * record it, and say when the next step may run. The producer's ReplayJobRunner Durable Object
 * calls this from its alarm and schedules the next alarm at the returned delay.
 *
 * Rate guarantee (with the runner starting each step at least `delayMs` after the previous step
 * started): a slice of n messages reserves n / rate seconds, slices are at most `rate` messages,
 * and the job completes on the step after its last slice. So by any moment t at most
 * rate · (t − start) + rate messages were sent (a token bucket holding one second's worth), and a
 * job of N messages takes at least N / rate seconds from start to completion. Sends go through
 * the queue publisher (`sendBatch`, ≤ 100 messages and ≤ 256 KB per call).
 *
 * Delivery: at-least-once. A slice is sent before its cursor is saved; a crash in between sends
 * it again, and consumers skip an event (source + id) they already applied.
 */

import type { Database } from "#shared/db/client.ts";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { toQueueMessage } from "#shared/envelope/queue-message.ts";
import type { Publisher } from "../brokers/publisher.ts";
import { type ArchiveCursor, type ArchiveSelection, nextArchivedEvents } from "../db/archive-replay-store.ts";
import { type DeadLetterFilter, type Redrive, replayDeadLetters } from "../db/dead-letter-admin-store.ts";
import { advanceReplayJob, finishReplayJob, getReplayJobRow, type ReplayJobStatus } from "./replay-jobs.ts";

/** Most messages one step sends, whatever the rate (bounds a step's work and memory). */
export const MAX_SLICE = 1000;

export type TickResult =
  | { readonly kind: "continue"; readonly sent: number; readonly delayMs: number }
  | { readonly kind: "finished"; readonly status: ReplayJobStatus };

export interface TickDependencies {
  readonly sql: Database;
  /** Cloudflare Queues publisher; destinations are queue names. */
  readonly queues: Publisher;
}

function queueMessageOf(body: unknown, fallbackId: string) {
  // Dead letters and archived events are CloudEvent records; anything else is re-sent unchanged.
  if (typeof body === "object" && body !== null && "source" in body && "id" in body)
    return toQueueMessage(body as CloudEventRecord);
  return { id: fallbackId, value: JSON.stringify(body) };
}

/** Runs one step of job `id`. Throws on a database or queue failure (the caller counts it and retries). */
export async function runReplayTick(deps: TickDependencies, id: string): Promise<TickResult> {
  const job = await getReplayJobRow(deps.sql, id);
  if (job === undefined) return { kind: "finished", status: "failed" };
  if (job.status !== "running") return { kind: "finished", status: job.status };
  const limit = Math.min(job.rate_per_second, MAX_SLICE);
  const upperBound = Number(job.upper_bound);

  let sent: number;
  let cursor: Record<string, unknown>;
  if (job.kind === "archive") {
    const events = await nextArchivedEvents(deps.sql, job.filter as ArchiveSelection, {
      upperBound,
      after: (job.cursor ?? undefined) as ArchiveCursor | undefined,
      limit,
    });
    const last = events.at(-1);
    if (last === undefined) {
      await finishReplayJob(deps.sql, id, "completed");
      return { kind: "finished", status: "completed" };
    }
    await deps.queues.publish(
      job.target_queue as string,
      events.map((e) => toQueueMessage(e.event)),
    );
    sent = events.length;
    cursor = { ...last.cursor };
  } else {
    const afterId = Number((job.cursor as { id?: number } | null)?.id ?? 0);
    const redrives = await replayDeadLetters(
      deps.sql,
      { filter: job.filter as DeadLetterFilter, afterId, upperBound, limit },
      job.requested_by,
      (slice) => sendRedrives(deps.queues, slice),
    );
    const last = redrives.at(-1);
    if (last === undefined) {
      await finishReplayJob(deps.sql, id, "completed");
      return { kind: "finished", status: "completed" };
    }
    sent = redrives.length;
    cursor = { id: last.id };
  }
  await advanceReplayJob(deps.sql, id, { sent, cursor });
  return { kind: "continue", sent, delayMs: Math.ceil((sent / job.rate_per_second) * 1000) };
}

/** Sends dead letters back to the queues they failed on, one publish per queue. */
export async function sendRedrives(queues: Publisher, redrives: readonly Redrive[]): Promise<void> {
  const byQueue = new Map<string, Redrive[]>();
  for (const redrive of redrives) byQueue.set(redrive.queue, [...(byQueue.get(redrive.queue) ?? []), redrive]);
  for (const [queue, slice] of byQueue) {
    await queues.publish(
      queue,
      slice.map((r) => queueMessageOf(r.body, `dead-letter:${r.id}`)),
    );
  }
}
