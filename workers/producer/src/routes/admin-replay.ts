/**
 * Admin routes of replay jobs (scope `admin`):
 * - `POST /v1/replay` — replay archived events by type pattern and time window into a named
 *   queue, rate-limited, as a job (202 with the job and `Location`); `dry_run` counts and samples;
 *   `rebuild` first empties the read model the queue feeds and its consumer's ledger;
 * - `GET /v1/replay/{id}` — a job's progress (archive replays and dead-letter redrives alike);
 * - `DELETE /v1/replay/{id}` — cancel a running job (what was sent stays sent).
 */

import { EdgebusError } from "#shared/errors.ts";
import { countArchived, nextArchivedEvents } from "../db/archive-replay-store.ts";
import { REBUILDABLE_READ_MODELS } from "../db/read-model-rebuild.ts";
import type { ProducerApp } from "../hono-env.ts";
import { createArchiveReplayJob, finishReplayJob, getReplayJob } from "../replay/replay-jobs.ts";
import { requireReplayJobs, STALLED_AFTER_MS, startReplayJob, wakeReplayJob } from "../replay-job-client.ts";
import { parseInput, readJsonBody, requireAdmin, withAdminDatabase } from "./admin-access.ts";
import { resolveRate } from "./admin-rate.ts";
import { archiveReplaySchema } from "./admin-schemas.ts";

const SAMPLE_SIZE = 10;

function jobId(text: string): string {
  if (!/^rj_[0-9a-f]{32}$/.test(text)) throw new EdgebusError("not_found", `no replay job ${text}`);
  return text;
}

export function registerAdminReplay(app: ProducerApp): void {
  app.post("/v1/replay", async (c) => {
    const principal = await requireAdmin(c);
    const body = parseInput(archiveReplaySchema, await readJsonBody(c), "replay request");
    const rate = resolveRate(c, body.rate_per_second);
    const selection = { type: body.type, from: body.from, to: body.to ?? new Date().toISOString() };
    if (body.rebuild && REBUILDABLE_READ_MODELS[body.queue] === undefined) {
      throw new EdgebusError("bad_request", `rebuild: queue ${body.queue} feeds no rebuildable read model`, {
        details: { queue: body.queue, rebuildable_queues: Object.keys(REBUILDABLE_READ_MODELS) },
      });
    }
    if (body.dry_run) {
      return withAdminDatabase(c, "counting archived events", async (sql) => {
        const { total, upperBound } = await countArchived(sql, selection);
        const sample = await nextArchivedEvents(sql, selection, { upperBound, after: undefined, limit: SAMPLE_SIZE });
        return c.json({
          dry_run: true as const,
          matched: total,
          sample: sample.map(({ event }) => ({
            source: event.source,
            id: event.id,
            type: event.type,
            time: event.time,
          })),
        });
      });
    }
    const namespace = requireReplayJobs(c.get("caps").config.admin.replayJobs);
    return withAdminDatabase(c, "creating a replay job", async (sql) => {
      const { job, reset } = await createArchiveReplayJob(sql, {
        selection,
        queue: body.queue,
        ratePerSecond: rate,
        requestedBy: principal.id,
        rebuild: body.rebuild,
      });
      await startReplayJob(namespace, sql, job.id);
      return c.json(
        { job, ...(reset === undefined ? {} : { reset: { rows: reset.rows, ledger_rows: reset.ledgerRows } }) },
        202,
        { Location: `/v1/replay/${job.id}` },
      );
    });
  });

  app.get("/v1/replay/:id", async (c) => {
    await requireAdmin(c);
    const id = jobId(c.req.param("id"));
    const config = c.get("caps").config.admin;
    const job = await withAdminDatabase(c, "reading a replay job", async (sql) => {
      const found = await getReplayJob(sql, id);
      // A running job without progress for a while lost its alarm (a deploy, an outage): wake it.
      if (found?.status === "running" && config.replayJobs !== null) {
        if (Date.now() - Date.parse(found.updated_at) > STALLED_AFTER_MS) {
          await wakeReplayJob(config.replayJobs, id).catch(() => {});
        }
      }
      return found;
    });
    if (job === undefined) throw new EdgebusError("not_found", `no replay job ${id}`);
    return c.json(job);
  });

  app.delete("/v1/replay/:id", async (c) => {
    await requireAdmin(c);
    const id = jobId(c.req.param("id"));
    const job = await withAdminDatabase(c, "cancelling a replay job", async (sql) => {
      const cancelled = await finishReplayJob(sql, id, "cancelled");
      if (cancelled !== undefined) return cancelled;
      const current = await getReplayJob(sql, id);
      if (current === undefined) throw new EdgebusError("not_found", `no replay job ${id}`);
      throw new EdgebusError("conflict", `replay job ${id} is ${current.status}, not running`, {
        details: { status: current.status },
      });
    });
    return c.json(job);
  });
}
