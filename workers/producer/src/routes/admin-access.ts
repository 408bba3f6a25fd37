/**
 * What every admin route does first: authenticate (401), require the `admin` scope (403), and
 * only then look at the request. Plus the request parsing and the per-request Postgres client
 * the admin routes share.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { type Database, databaseError, openDatabase } from "#shared/db/client.ts";
import { EdgebusError } from "#shared/errors.ts";
import { assertAdmin, type Principal } from "../auth/authenticate.ts";
import { authenticateRequest } from "../authenticate-request.ts";
import type { ProducerEnv } from "../hono-env.ts";

/** 401 without a valid key, 403 without the admin scope. */
export async function requireAdmin(c: Context<ProducerEnv>): Promise<Principal> {
  const principal = await authenticateRequest(c);
  assertAdmin(principal);
  return principal;
}

/** A zod result as the value, or 400 `bad_request` listing every problem with its field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => ({
    field: issue.path.join(".") || undefined,
    message: issue.message,
  }));
  const summary = problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join("; ");
  throw new EdgebusError("bad_request", `invalid ${what}: ${summary}`, { details: { problems } });
}

/** The JSON body of an admin POST; an empty body counts as `{}`. */
export async function readJsonBody(c: Context<ProducerEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new EdgebusError("malformed_json", "the request body is not valid JSON");
  }
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
