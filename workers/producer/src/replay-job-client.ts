/**
 * How the routes reach the ReplayJobRunner Durable Object (one instance per job, named by the
 * job id) without importing it: the class lives in `replay-job-runner.ts`, which only the Worker
 * entry point imports (it needs `cloudflare:workers`).
 */
import type { Database } from "#shared/db/client.ts";
import { EdgebusError } from "#shared/errors.ts";
import { finishReplayJob } from "./replay/replay-jobs.ts";

/** The runner's RPC surface. */
export interface ReplayJobRunnerRpc {
  /** Starts ticking job `jobId` now unless an alarm is already set. Idempotent. */
  start(jobId: string): Promise<void>;
}

export function requireReplayJobs(namespace: DurableObjectNamespace | null): DurableObjectNamespace {
  if (namespace === null) {
    throw new EdgebusError(
      "upstream_unavailable",
      "replay jobs need the REPLAY_JOBS Durable Object binding (see [durable_objects] in wrangler.toml)",
      { retryable: false },
    );
  }
  return namespace;
}

/**
 * Hands a created job to its runner. If the runner cannot be reached the job is marked failed
 * (nobody would ever tick it) and the request fails with 503.
 */
export async function startReplayJob(namespace: DurableObjectNamespace, sql: Database, jobId: string): Promise<void> {
  try {
    await wakeReplayJob(namespace, jobId);
  } catch (cause) {
    await finishReplayJob(sql, jobId, "failed", "the replay job runner could not be started").catch(() => {});
    throw new EdgebusError("upstream_unavailable", "the replay job runner could not be started; try again", {
      cause,
      details: { job_id: jobId },
    });
  }
}

/** Asks the job's runner to tick it now unless an alarm is pending. */
export async function wakeReplayJob(namespace: DurableObjectNamespace, jobId: string): Promise<void> {
  const stub = namespace.get(namespace.idFromName(jobId)) as unknown as ReplayJobRunnerRpc;
  await stub.start(jobId);
}

/** A running job without progress for this long is woken when someone reads it. */
export const STALLED_AFTER_MS = 60_000;
