/**
 * What the admin routes share: their declarations' common parts (the key they need, the errors
 * every one can answer, the path ids, the job response), the request parsing, and the
 * per-request Postgres client. The key check itself (401, then 403 without the `admin` scope,
 * before the request is looked at) comes from `ADMIN_KEY` in each declaration.
 */
import type { Context } from "hono";
import { z } from "zod";
import { type Database, databaseError, openDatabase } from "#shared/db/client.ts";
import { EdgebusError } from "#shared/errors.ts";
import { jsonNestsDeeperThan } from "../envelope/json-depth.ts";
import { findUnstorableText } from "../envelope/storable-text.ts";
import type { ProducerEnv } from "../hono-env.ts";
import { readBodyText } from "../read-body.ts";
import { errorResponses, jsonContent } from "../route-definition.ts";

/**
 * Limits of an admin request body: a few filter fields, so far below an event's. The size is
 * enforced while streaming (`read-body.ts`), the depth before parsing (`json-depth.ts`).
 */
export const ADMIN_BODY_LIMITS = { maxBytes: 16_384, maxDepth: 8 } as const;

/** Tag of every admin operation (tests find the admin routes in the OpenAPI document by it). */
export const ADMIN_TAGS = ["admin"];

/** Errors any admin route can answer: no key, no admin scope, no database. */
export function adminErrors(statuses: readonly number[]) {
  return errorResponses([...statuses, 401, 403, 503]);
}

/** Errors of an admin route that reads a JSON body: those, a malformed or nested body, one too large. */
export function adminBodyErrors(statuses: readonly number[]) {
  return adminErrors([...new Set([...statuses, 400, 413])].sort());
}

/** Path of the routes of one dead letter (`deadLetterId` reads it). */
export const deadLetterIdParams = z.object({
  id: z
    .int()
    .min(1)
    .meta({ param: { description: "Dead letter id" } }),
});

const REPLAY_JOB_ID = /^rj_[0-9a-f]{32}$/;

/** Path of the routes of one replay job (`replayJobId` reads it). */
export const replayJobIdParams = z.object({
  id: z
    .string()
    .regex(REPLAY_JOB_ID)
    .meta({ param: { description: "Replay job id" } }),
});

/** 202 with a created job, and where to follow it. */
export function jobCreated(schema: z.ZodType) {
  return {
    description: "Job created; follow it at Location",
    headers: { Location: { schema: { type: "string" as const }, description: "`/v1/replay/{job id}`" } },
    content: jsonContent(schema),
  };
}

/**
 * A zod result as the value, or 400 `bad_request` listing every problem with its field. Text
 * Postgres cannot store (U+0000, an unpaired surrogate) is refused first, naming the field: every
 * admin input ends up in a SQL parameter.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const unstorable = findUnstorableText(input);
  if (unstorable.length > 0) {
    const problems = unstorable.map((issue) => ({ field: issue.path || undefined, message: issue.message }));
    throw new EdgebusError(
      "bad_request",
      `invalid ${what}: ${problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join("; ")}`,
      { details: { problems } },
    );
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => ({
    field: issue.path.join(".") || undefined,
    message: issue.message,
  }));
  const summary = problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join("; ");
  throw new EdgebusError("bad_request", `invalid ${what}: ${summary}`, { details: { problems } });
}

/** The JSON body of an admin POST, within `ADMIN_BODY_LIMITS`; an empty body counts as `{}`. */
export async function readJsonBody(c: Context<ProducerEnv>): Promise<unknown> {
  const text = await readBodyText(c.req.raw, ADMIN_BODY_LIMITS.maxBytes, "an admin request body");
  if (text.trim() === "") return {};
  if (jsonNestsDeeperThan(text, ADMIN_BODY_LIMITS.maxDepth)) {
    throw new EdgebusError(
      "malformed_json",
      `the request body nests arrays/objects deeper than ${ADMIN_BODY_LIMITS.maxDepth} levels (the limit for admin requests)`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new EdgebusError("malformed_json", "the request body is not valid JSON");
  }
}

/** A path id of `edgebus.replay_jobs`, or 404. */
export function replayJobId(text: string): string {
  if (!REPLAY_JOB_ID.test(text)) throw new EdgebusError("not_found", `no replay job ${text}`);
  return text;
}

/** A path id of `edgebus.dead_letters` (a positive integer), or 404. */
export function deadLetterId(text: string): number {
  const id = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new EdgebusError("not_found", `no dead letter ${text}`);
  return id;
}

/**
 * Runs `work` with a Postgres client opened for this request (Hyperdrive pools the real
 * connections) for the length of the request. Database failures become `upstream_unavailable` (503,
 * retryable) or `internal`; 503 names the missing binding when there is no database at all.
 */
export async function withAdminDatabase<T>(
  c: Context<ProducerEnv>,
  action: string,
  work: (sql: Database) => Promise<T>,
): Promise<T> {
  const url = c.get("caps").config.admin.databaseUrl;
  if (url === null) {
    throw new EdgebusError("upstream_unavailable", "the admin API needs Postgres: bind HYPERDRIVE in wrangler.toml", {
      retryable: false,
    });
  }
  // Not ended here: ending a client makes workerd's socket polyfill raise "socket has been
  // closed" on the pending read; the runtime closes the request's sockets when it finishes.
  const sql = openDatabase(url, { max: 2 });
  try {
    return await work(sql);
  } catch (thrown) {
    throw databaseError(thrown, action);
  }
}
