/**
 * ReplayJobRunner: the Durable Object that drives one replay job (instance named by the job id)
 * with alarms, so a job outlives the request that created it and can run for hours at a gentle
 * rate. Each alarm runs one tick (`runReplayTick`: send one slice, save cursor and counters in
 * `edgebus.replay_jobs`) and sets the next alarm a slice's share of time (slice / rate) after the
 * tick started.
 *
 * Postgres holds all job state; the object stores only the job id. A failed tick (Postgres or the
 * queue unavailable) is counted on the job and retried with backoff (2 s doubling, at most 60 s);
 * after MAX_TICK_FAILURES in a row the job is `failed` with the last error. The alarm handler
 * never throws, so the platform's own alarm retries never double a tick.
 */
import { DurableObject } from "cloudflare:workers";
import { openDatabase } from "#shared/db/client.ts";
import { createLogger } from "#shared/log.ts";
import { QueuePublisher } from "./brokers/queue-publisher.ts";
import { parseProducerEnv } from "./env.ts";
import { recordTickFailure } from "./replay/replay-jobs.ts";
import { runReplayTick } from "./replay/replay-tick.ts";
import type { ReplayJobRunnerRpc } from "./replay-job-client.ts";

const JOB_ID_KEY = "job-id";
const FAILURES_KEY = "consecutive-failures";

const log = createLogger({ component: "replay-job-runner" });

export class ReplayJobRunner extends DurableObject<Record<string, unknown>> implements ReplayJobRunnerRpc {
  async start(jobId: string): Promise<void> {
    await this.ctx.storage.put(JOB_ID_KEY, jobId);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const jobId = await this.ctx.storage.get<string>(JOB_ID_KEY);
    if (jobId === undefined) return;
    // The next slice is due a slice's share of time after this one STARTED, so the time a tick
    // takes does not slow the job below its rate (runReplayTick states the guarantee).
    const tickStarted = Date.now();
    let sql: ReturnType<typeof openDatabase> | undefined;
    try {
      const config = parseProducerEnv(this.env);
      if (config.admin.databaseUrl === null) throw new Error("HYPERDRIVE binding missing");
      sql = openDatabase(config.admin.databaseUrl, { max: 2 });
      const result = await runReplayTick({ sql, queues: new QueuePublisher(config.queues) }, jobId);
      await this.ctx.storage.delete(FAILURES_KEY);
      if (result.kind === "continue") {
        await this.ctx.storage.setAlarm(Math.max(Date.now(), tickStarted + result.delayMs));
      } else {
        log.log("info", "replay job finished", { job_id: jobId, outcome: result.status });
        await this.ctx.storage.deleteAll();
      }
    } catch (thrown) {
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      const failures = ((await this.ctx.storage.get<number>(FAILURES_KEY)) ?? 0) + 1;
      await this.ctx.storage.put(FAILURES_KEY, failures);
      let gaveUp = false;
      if (sql !== undefined) gaveUp = await recordTickFailure(sql, jobId, message).catch(() => false);
      log.log("error", gaveUp ? "replay job failed" : "replay tick failed; retrying", {
        job_id: jobId,
        error_message: message,
        note: `failures=${failures}`,
      });
      if (gaveUp) await this.ctx.storage.deleteAll();
      else await this.ctx.storage.setAlarm(Date.now() + Math.min(60_000, 1000 * 2 ** Math.min(failures, 6)));
    }
    // The client is not ended: that makes workerd's socket polyfill raise "socket has been
    // closed"; the runtime closes the alarm's sockets when the alarm invocation ends.
  }
}
