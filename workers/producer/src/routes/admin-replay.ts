/**
 * Admin routes of replay jobs (scope `admin`):
 * - `POST /v1/replay` — replay archived events by type pattern and time window into a named
 *   queue, rate-limited, as a job (202 with the job and `Location`); `dry_run` counts and samples;
 *   `rebuild` first empties the read model the queue feeds and its consumer's ledger;
 * - `GET /v1/replay/{id}` — a job's progress (archive replays and dead-letter redrives alike);
 * - `DELETE /v1/replay/{id}` — cancel a running job (what was sent stays sent).
 */
import { createRoute } from "@hono/zod-openapi";
import { EdgebusError } from "#shared/errors.ts";
import { countArchived, nextArchivedEvents } from "../db/archive-replay-store.ts";
import { REBUILDABLE_READ_MODELS } from "../db/read-model-rebuild.ts";
import { createArchiveReplayJob, finishReplayJob, getReplayJob } from "../replay/replay-jobs.ts";
import { requireReplayJobs, STALLED_AFTER_MS, startReplayJob, wakeReplayJob } from "../replay-job-client.ts";
import { ADMIN_KEY, defineRoute, jsonBodySchema, jsonContent } from "../route-definition.ts";
import {
  ADMIN_TAGS,
  adminBodyErrors,
  adminErrors,
  jobCreated,
  parseInput,
  readJsonBody,
  replayJobId,
  replayJobIdParams,
  withAdminDatabase,
} from "./admin-access.ts";
import { resolveRate } from "./admin-rate.ts";
import {
  archiveReplayDryRunSchema,
  archiveReplayResponseSchema,
  archiveReplaySchema,
  replayJobSchema,
} from "./admin-schemas.ts";

const SAMPLE_SIZE = 10;

const replay = createRoute({
  method: "post",
  path: "/v1/replay",
  operationId: "replayArchive",
  tags: ADMIN_TAGS,
  summary: "Replay archived events into a queue (admin)",
  description:
    "Creates a rate-limited job sending the archived events whose type matches `type` and whose time is in [`from`, `to`) to `queue`, oldest first, with their original source + id (idempotent consumers skip what they applied). `rebuild` empties the read model the queue feeds, and its consumer's processed_events, first.",
  security: ADMIN_KEY,
  request: { body: { required: true, content: jsonContent(archiveReplaySchema) } },
  responses: {
    200: { description: "Dry run", content: jsonContent(archiveReplayDryRunSchema) },
    202: jobCreated(archiveReplayResponseSchema),
    ...adminBodyErrors([400]),
  },
});

export const replayArchiveRoute = defineRoute(replay, async (c, principal) => {
  const body = parseInput(jsonBodySchema(replay), await readJsonBody(c), "replay request");
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

export const getReplayJobRoute = defineRoute(
  createRoute({
    method: "get",
    path: "/v1/replay/{id}",
    operationId: "getReplayJob",
    tags: ADMIN_TAGS,
    summary: "Progress of a replay job (admin)",
    security: ADMIN_KEY,
    request: { params: replayJobIdParams },
    responses: {
      200: { description: "The job", content: jsonContent(replayJobSchema) },
      ...adminErrors([404]),
    },
  }),
  async (c) => {
    const id = replayJobId(c.req.param("id"));
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
  },
);

export const cancelReplayJobRoute = defineRoute(
  createRoute({
    method: "delete",
    path: "/v1/replay/{id}",
    operationId: "cancelReplayJob",
    tags: ADMIN_TAGS,
    summary: "Cancel a running replay job (admin)",
    security: ADMIN_KEY,
    request: { params: replayJobIdParams },
    responses: {
      200: { description: "Cancelled", content: jsonContent(replayJobSchema) },
      ...adminErrors([404, 409]),
    },
  }),
  async (c) => {
    const id = replayJobId(c.req.param("id"));
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
  },
);

export const REPLAY_ROUTES = [replayArchiveRoute, getReplayJobRoute, cancelReplayJobRoute];
