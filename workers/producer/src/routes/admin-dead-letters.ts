/**
 * Admin routes over `edgebus.dead_letters` (scope `admin`):
 * - `GET /v1/dead-letters` — filtered list, newest failure first, cursor pagination;
 * - `GET /v1/dead-letters/{id}` — one entry with the original message body;
 * - `POST /v1/dead-letters/{id}/replay` — send it back to its queue now, mark it replayed;
 * - `DELETE /v1/dead-letters/{id}` — discard with a reason;
 * - `POST /v1/dead-letters/replay` — bulk redrive by filter as a rate-limited job (`dry_run`
 *   answers counts and a sample).
 */
import { createRoute } from "@hono/zod-openapi";
import { EdgebusError } from "#shared/errors.ts";
import { QUEUE_NAMES, type QueueName } from "#shared/names.ts";
import {
  countPendingDeadLetters,
  type DeadLetterCursor,
  discardDeadLetter,
  getDeadLetter,
  listDeadLetters,
  replayDeadLetters,
} from "../db/dead-letter-admin-store.ts";
import { createDeadLetterRedriveJob } from "../replay/replay-jobs.ts";
import { sendRedrives } from "../replay/replay-tick.ts";
import { requireReplayJobs, startReplayJob } from "../replay-job-client.ts";
import { ADMIN_KEY, defineRoute, jsonBodySchema, jsonContent } from "../route-definition.ts";
import {
  ADMIN_TAGS,
  adminBodyErrors,
  adminErrors,
  deadLetterId,
  deadLetterIdParams,
  jobCreated,
  parseInput,
  readJsonBody,
  withAdminDatabase,
} from "./admin-access.ts";
import { resolveRate } from "./admin-rate.ts";
import {
  deadLetterDetailSchema,
  deadLetterListQuerySchema,
  deadLetterPageSchema,
  deadLetterRedriveSchema,
  deadLetterResponseSchema,
  discardSchema,
  REDRIVE_FILTER_FIELDS,
  redriveDryRunSchema,
  redriveResponseSchema,
} from "./admin-schemas.ts";

const SAMPLE_SIZE = 10;

function encodeCursor(cursor: DeadLetterCursor): string {
  return btoa(JSON.stringify(cursor)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(text: string): DeadLetterCursor {
  try {
    const json = JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/"))) as Partial<DeadLetterCursor>;
    if (
      typeof json.last_failed_at === "string" &&
      !Number.isNaN(Date.parse(json.last_failed_at)) &&
      Number.isSafeInteger(json.id)
    ) {
      return { last_failed_at: json.last_failed_at, id: json.id as number };
    }
  } catch {
    // reported below
  }
  throw new EdgebusError("bad_request", "invalid cursor: pass the next_cursor of the previous page unchanged");
}

const list = createRoute({
  method: "get",
  path: "/v1/dead-letters",
  operationId: "listDeadLetters",
  tags: ADMIN_TAGS,
  summary: "List dead letters (admin)",
  description:
    "Newest failure first. Filters narrow; `status` defaults to `pending`. Pass `next_cursor` as `cursor` for the next page.",
  security: ADMIN_KEY,
  request: { query: deadLetterListQuerySchema },
  responses: {
    200: { description: "A page of dead letters", content: jsonContent(deadLetterPageSchema) },
    ...adminErrors([400]),
  },
});

export const listDeadLettersRoute = defineRoute(list, async (c) => {
  const { limit, cursor, ...filter } = parseInput(list.request.query, c.req.query(), "query");
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const page = await withAdminDatabase(c, "listing dead letters", (sql) =>
    listDeadLetters(sql, filter, { limit, ...(after ? { after } : {}) }),
  );
  return c.json({
    dead_letters: page.entries,
    next_cursor: page.next === undefined ? null : encodeCursor(page.next),
  });
});

const redrive = createRoute({
  method: "post",
  path: "/v1/dead-letters/replay",
  operationId: "redriveDeadLetters",
  tags: ADMIN_TAGS,
  summary: "Redrive pending dead letters by filter (admin)",
  description:
    "Creates a rate-limited job that sends each matching pending dead letter back to the queue it failed on and marks it replayed. With `dry_run` answers the count per queue and a sample, and sends nothing.",
  security: ADMIN_KEY,
  request: { body: { required: false, content: jsonContent(deadLetterRedriveSchema) } },
  responses: {
    200: { description: "Dry run", content: jsonContent(redriveDryRunSchema) },
    202: jobCreated(redriveResponseSchema),
    ...adminBodyErrors([400]),
  },
});

export const redriveDeadLettersRoute = defineRoute(redrive, async (c, principal) => {
  const body = parseInput(jsonBodySchema(redrive), await readJsonBody(c), "redrive request");
  const { rate_per_second, dry_run, all, ...filter } = body;
  const rate = resolveRate(c, rate_per_second);
  // An empty or truncated body must not mean "replay everything": that takes an explicit `all`.
  if (!dry_run && !all && Object.keys(filter).length === 0) {
    throw new EdgebusError(
      "bad_request",
      'a redrive without a filter would replay every pending dead letter: give a filter, or "all": true',
      { details: { filters: REDRIVE_FILTER_FIELDS } },
    );
  }
  if (dry_run) {
    return withAdminDatabase(c, "counting dead letters", async (sql) => {
      const counts = await countPendingDeadLetters(sql, filter);
      const sample = await listDeadLetters(sql, { ...filter, status: "pending" }, { limit: SAMPLE_SIZE });
      return c.json({
        dry_run: true as const,
        matched: counts.total,
        by_queue: counts.byQueue,
        sample: sample.entries,
      });
    });
  }
  const namespace = requireReplayJobs(c.get("caps").config.admin.replayJobs);
  return withAdminDatabase(c, "creating a redrive job", async (sql) => {
    const { job, byQueue } = await createDeadLetterRedriveJob(sql, {
      filter,
      ratePerSecond: rate,
      requestedBy: principal.id,
    });
    await startReplayJob(namespace, sql, job.id);
    return c.json({ job, by_queue: byQueue }, 202, { Location: `/v1/replay/${job.id}` });
  });
});

export const getDeadLetterRoute = defineRoute(
  createRoute({
    method: "get",
    path: "/v1/dead-letters/{id}",
    operationId: "getDeadLetter",
    tags: ADMIN_TAGS,
    summary: "One dead letter with its original message (admin)",
    security: ADMIN_KEY,
    request: { params: deadLetterIdParams },
    responses: {
      200: { description: "The dead letter", content: jsonContent(deadLetterDetailSchema) },
      ...adminErrors([404]),
    },
  }),
  async (c) => {
    const id = deadLetterId(c.req.param("id"));
    const entry = await withAdminDatabase(c, "reading a dead letter", (sql) => getDeadLetter(sql, id));
    if (entry === undefined) throw new EdgebusError("not_found", `no dead letter ${id}`);
    return c.json(entry);
  },
);

export const replayDeadLetterRoute = defineRoute(
  createRoute({
    method: "post",
    path: "/v1/dead-letters/{id}/replay",
    operationId: "replayDeadLetter",
    tags: ADMIN_TAGS,
    summary: "Send one pending dead letter back to its queue now (admin)",
    description: "Marks it replayed with the caller's key id and the time. 409 when it is not pending.",
    security: ADMIN_KEY,
    request: { params: deadLetterIdParams },
    responses: {
      200: { description: "Replayed", content: jsonContent(deadLetterDetailSchema) },
      ...adminErrors([404, 409]),
    },
  }),
  async (c, principal) => {
    const id = deadLetterId(c.req.param("id"));
    const caps = c.get("caps");
    const entry = await withAdminDatabase(c, "replaying a dead letter", async (sql) => {
      const current = await getDeadLetter(sql, id);
      if (current === undefined) throw new EdgebusError("not_found", `no dead letter ${id}`);
      if (!QUEUE_NAMES.includes(current.queue as QueueName)) {
        throw new EdgebusError(
          "conflict",
          `dead letter ${id} failed on queue "${current.queue}", which has no binding`,
          {
            details: { queue: current.queue, known_queues: QUEUE_NAMES },
          },
        );
      }
      const sent = await replayDeadLetters(sql, { ids: [id] }, principal.id, (redrives) =>
        sendRedrives(caps.queues, redrives),
      );
      if (sent.length === 0) {
        const now = await getDeadLetter(sql, id);
        throw new EdgebusError("conflict", `dead letter ${id} is ${now?.status ?? current.status}, not pending`, {
          details: { status: now?.status ?? current.status },
        });
      }
      return getDeadLetter(sql, id);
    });
    return c.json(entry);
  },
);

const discard = createRoute({
  method: "delete",
  path: "/v1/dead-letters/{id}",
  operationId: "discardDeadLetter",
  tags: ADMIN_TAGS,
  summary: "Discard a pending dead letter with a reason (admin)",
  description:
    "The row is kept with who discarded it, when and why. The reason may also be a `reason` query parameter.",
  security: ADMIN_KEY,
  request: { params: deadLetterIdParams, body: { required: false, content: jsonContent(discardSchema) } },
  responses: {
    200: { description: "Discarded", content: jsonContent(deadLetterResponseSchema) },
    ...adminBodyErrors([400, 404, 409]),
  },
});

export const discardDeadLetterRoute = defineRoute(discard, async (c, principal) => {
  const id = deadLetterId(c.req.param("id"));
  const fromQuery = c.req.query("reason");
  const input = fromQuery === undefined ? await readJsonBody(c) : { reason: fromQuery };
  const { reason } = parseInput(jsonBodySchema(discard), input, "discard request");
  const result = await withAdminDatabase(c, "discarding a dead letter", (sql) =>
    discardDeadLetter(sql, id, principal.id, reason),
  );
  if (result.kind === "not-found") throw new EdgebusError("not_found", `no dead letter ${id}`);
  if (result.kind === "not-pending") {
    throw new EdgebusError("conflict", `dead letter ${id} is ${result.status}, not pending`, {
      details: { status: result.status },
    });
  }
  return c.json(result.entry);
});

/** In registration order: `/v1/dead-letters/replay` before `/v1/dead-letters/{id}`. */
export const DEAD_LETTER_ROUTES = [
  listDeadLettersRoute,
  redriveDeadLettersRoute,
  getDeadLetterRoute,
  replayDeadLetterRoute,
  discardDeadLetterRoute,
];
