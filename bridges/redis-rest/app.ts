import { createHash, timingSafeEqual } from "node:crypto";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Redis } from "ioredis";
import { z } from "zod";
import { EdgebusError, toEdgebusError } from "#shared/errors.ts";
import { type BodyBudget, type BodyLimits, readBoundedBody, readBoundedText } from "../http/bounded-body.ts";
import { parseCommandList, parsePathCommand, parseSingleCommand, type RedisCommand } from "./command-body.ts";
import { allowedCommandEntry, CommandPolicy } from "./command-policy.ts";
import { type CommandOutcome, RedisCommandRunner } from "./command-runner.ts";
import { RedisSubscriptions, type SubscriptionKind } from "./subscriptions.ts";
import { RedisUserGuard } from "./user-guard.ts";

const token = z.string().min(16, { error: "a Redis REST token must have at least 16 characters" });

const optionsSchema = z.object({
  token: z.union([token, z.array(token).min(1)]),
  readOnlyTokens: z.array(token).default([]),
  allowQueryToken: z.boolean().default(true),
  /** Largest request body; Upstash's own default is 1 MB. */
  maxRequestBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /**
   * Largest number of commands in one pipeline or transaction. Generous on purpose: the client
   * auto-pipelines everything issued in one tick into one request, so a burst of concurrent calls
   * arrives as one big pipeline; the byte limit above already bounds the work.
   */
  maxCommands: z.number().int().positive().default(10_000),
  /** Redis connections for concurrent `/multi-exec` calls; one more answers 503 + Retry-After. */
  maxTransactionConnections: z.number().int().positive().default(16),
  /** Commands served beyond the allow list (`command-policy.ts`), for a Redis dedicated to the gateway. */
  allowCommands: z.array(allowedCommandEntry).default([]),
  /** Serve (with a warning) over a Redis user that can run administrative commands. */
  allowUnrestrictedUser: z.boolean().default(false),
});

export interface RedisRestAppOptions {
  /** The Redis behind the gateway. Quitting it also closes the transaction connections. */
  readonly redis: Redis;
  /** The full token, or every accepted one while rotating (`BRIDGE_REDIS_REST_TOKEN`, `_PREVIOUS`). */
  readonly token: string | readonly string[];
  /** Read-only tokens: read commands only (`BRIDGE_REDIS_REST_READONLY_TOKEN`, `_PREVIOUS`). */
  readonly readOnlyTokens?: readonly string[];
  /** Accept `?_token=` as well as `Authorization: Bearer` (Upstash does; default true). */
  readonly allowQueryToken?: boolean;
  /**
   * The `/subscribe` and `/psubscribe` event streams; `false` turns them off. Default: streams
   * with the default limits. The bridge passes its own, to end them at shutdown.
   */
  readonly subscriptions?: RedisSubscriptions | false;
  readonly maxRequestBytes?: number;
  /** Bytes of request bodies all `/redis` calls may hold at once (429 + Retry-After beyond). */
  readonly bodyBudget?: BodyBudget;
  readonly maxCommands?: number;
  readonly maxTransactionConnections?: number;
  readonly allowCommands?: readonly string[];
  readonly allowUnrestrictedUser?: boolean;
  /**
   * The check that `redis` is the restricted ACL user; the bridge passes the one it verified at
   * startup. Default: one built from the options above.
   */
  readonly userGuard?: RedisUserGuard;
}

/**
 * An Upstash-compatible Redis REST API over a real Redis, speaking what `@upstash/redis` sends with
 * its defaults (base64 responses, auto-pipelining): `POST /` (one command), `POST /pipeline`,
 * `POST /multi-exec`, `Authorization: Bearer <token>`.
 *
 * Responses follow the Upstash wire shape, not edgebus's error body, because the client reads
 * `body.error` as a string: `{result}` (null included), `{error: "ERR …"}` with 400 for a failed
 * single command or a discarded transaction, in-place `{error}` items with 200 for pipelines,
 * 401 for a bad token, 413/415/400 for oversized, non-JSON or malformed bodies, 503 when Redis is
 * unreachable or every transaction connection is busy (with `Retry-After`). Only the commands of
 * the allow list run (`command-policy.ts`); the rest are refused with NOPERM, and Redis's ACL user
 * (`redis-acl.ts`) refuses them inside Lua too. Over a Redis user that is not restricted the
 * gateway answers 503 unless `allowUnrestrictedUser` is set (`user-guard.ts`).
 *
 * @example
 * const app = new Hono();
 * app.route("/redis", createRedisRestApp({ redis: new Redis(process.env.REDIS_URL), token }));
 */
export function createRedisRestApp(options: RedisRestAppOptions): Hono {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new EdgebusError("bad_request", `invalid Redis REST gateway options: ${z.prettifyError(parsed.error)}`);
  }
  const { maxRequestBytes, maxCommands, maxTransactionConnections, allowQueryToken } = parsed.data;
  const policy = new CommandPolicy({ allowCommands: parsed.data.allowCommands });
  const guard =
    options.userGuard ??
    new RedisUserGuard(options.redis, { policy, allowUnrestrictedUser: parsed.data.allowUnrestrictedUser });
  const runner = new RedisCommandRunner(options.redis, { transactions: { max: maxTransactionConnections } });
  const subscriptions =
    options.subscriptions === false ? undefined : (options.subscriptions ?? new RedisSubscriptions(options.redis));
  options.redis.once("end", () => {
    void runner.close();
    subscriptions?.closeAll();
  });
  const fullTokens = typeof parsed.data.token === "string" ? [parsed.data.token] : parsed.data.token;
  const accessOf = tokenChecker(fullTokens, parsed.data.readOnlyTokens);

  const app = new Hono<{ Variables: { access: Access } }>();

  app.onError((error, c) => renderError(c, toEdgebusError(error)));
  app.notFound((c) => renderError(c, new EdgebusError("not_found", `no route for ${c.req.method} ${c.req.path}`)));

  app.use("*", async function requireToken(c, next) {
    const header = c.req.header("authorization");
    const bearer = header === undefined ? undefined : /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    const query = allowQueryToken ? c.req.query("_token") : undefined;
    const access = accessOf(bearer ?? query);
    if (access === undefined) {
      throw new EdgebusError("unauthorized", "Unauthorized: missing or invalid token (Bearer header or _token)");
    }
    c.set("access", access);
    await next();
  });

  // Read only after the token was checked, counted on the stream (chunked too), within the limit
  // and the area's budget (bridges/http/bounded-body.ts).
  const bodyLimits = { maxBytes: maxRequestBytes, ...(options.bodyBudget ? { budget: options.bodyBudget } : {}) };
  const readJson = (c: Context) => readJsonBody(c, bodyLimits);
  const assertPermitted = (c: Context<{ Variables: { access: Access } }>, command: RedisCommand) => {
    policy.assertAllowed(command);
    if (c.get("access") === "read") policy.assertReadOnly(command);
  };

  const single = async (c: Context<{ Variables: { access: Access } }>, command: RedisCommand) => {
    assertPermitted(c, command);
    await guard.assertServable();
    const outcome = await runner.runOne(command, wantsBase64(c));
    return "error" in outcome ? c.json(outcome, 400) : c.json(outcome);
  };

  // Upstash accepts the command body whatever the content type says (`curl -d` sends a form type).
  app.on(["POST", "PUT"], "/", async (c) => single(c, parseSingleCommand(await readJson(c))));

  app.on(["POST", "PUT"], "/pipeline", async (c) => {
    const commands = parseCommandList(await readJson(c), { maxCommands });
    for (const command of commands) assertPermitted(c, command);
    await guard.assertServable();
    const outcomes: CommandOutcome[] = await runner.runPipeline(commands, wantsBase64(c));
    return c.json(outcomes);
  });

  app.on(["POST", "PUT"], "/multi-exec", async (c) => {
    const commands = parseCommandList(await readJson(c), { maxCommands });
    for (const command of commands) assertPermitted(c, command);
    await guard.assertServable();
    return c.json(await runner.runTransaction(commands, wantsBase64(c)));
  });

  for (const path of ["/", "/pipeline", "/multi-exec"]) {
    app.all(path, (c) => {
      c.header("Allow", "POST, PUT");
      return renderError(c, new EdgebusError("method_not_allowed", `${c.req.method} is not allowed; use POST`));
    });
  }

  // Pub/sub over Server-Sent Events: POST as @upstash/redis sends it, GET for EventSource and curl.
  for (const kind of ["subscribe", "psubscribe"] as const satisfies SubscriptionKind[]) {
    app.on(["GET", "POST"], `/${kind}/*`, async (c) => {
      if (!subscriptions) {
        throw new EdgebusError("bad_request", `ERR ${kind} is turned off on this bridge (redisRest.subscriptions)`);
      }
      const channels = pathSegments(c).slice(1);
      // The client sends `[]` as the body; it carries nothing, but is read (within the limit) so
      // the connection is clean.
      await readBoundedBody(c, { maxBytes: 4096 });
      await guard.assertServable();
      const env = c.env as { outgoing?: import("node:http").ServerResponse } | undefined;
      if (!env?.outgoing) throw new EdgebusError("bad_request", `ERR ${kind} needs the bridge's HTTP server`);
      await subscriptions.open(env.outgoing, kind, decodeSegments(channels));
      return RESPONSE_ALREADY_SENT;
    });
  }
  app.all("/monitor", () => {
    throw new EdgebusError(
      "bad_request",
      "ERR MONITOR is not served by this gateway: it would show every client's commands (bridges/README.md)",
    );
  });

  // Path style: `/set/foo/bar`, `/get/foo`, a POST body as the last argument, query arguments.
  app.on(["GET", "POST", "PUT"], "/*", async (c) => {
    const body = c.req.method === "GET" ? undefined : await readBoundedBody(c, bodyLimits);
    const query = new URL(c.req.url).search.replace(/^\?/, "");
    return single(c, parsePathCommand(pathSegments(c), body, query));
  });
  app.all("/*", (c) => {
    c.header("Allow", "GET, HEAD, POST, PUT");
    return renderError(c, new EdgebusError("method_not_allowed", `${c.req.method} is not allowed`));
  });

  return app as unknown as Hono;
}

type Access = "full" | "read";

/**
 * The raw (still percent-encoded) path segments after the gateway's mount point: the mount's own
 * segments are those of the matched route's pattern before its final `/*`.
 */
function pathSegments(c: Context): string[] {
  const raw = new URL(c.req.url).pathname.split("/").slice(1);
  const mount = c.req.routePath.replace(/\/\*$/, "").split("/").slice(1);
  // A route like `/subscribe/*` counts its own fixed segment as part of the command.
  const fixed = mount.findIndex((segment) => segment === "subscribe" || segment === "psubscribe");
  const prefix = fixed >= 0 ? fixed : mount.filter((segment) => segment !== "").length;
  const segments = raw.slice(prefix);
  // One trailing slash (`/get/foo/`) adds no empty argument.
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  return segments;
}

function decodeSegments(segments: readonly string[]): string[] {
  return segments.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new EdgebusError("bad_request", `ERR the path segment "${segment}" is not valid percent-encoding`);
    }
  });
}

function wantsBase64(c: Context): boolean {
  return c.req.header("upstash-encoding")?.toLowerCase() === "base64";
}

async function readJsonBody(c: Context, limits: BodyLimits): Promise<unknown> {
  const text = await readBoundedText(c, limits);
  try {
    return JSON.parse(text);
  } catch {
    throw new EdgebusError("malformed_json", "ERR the body is not valid JSON");
  }
}

/**
 * Upstash's error shape `{error: string}` (the client reads `body.error` as the message), plus
 * edgebus's closed error `code` for machines, as the Kafka REST gateway does; the status comes
 * from the code. Errors Redis itself returns for a command are not rendered here.
 */
function renderError(c: Context, error: EdgebusError): Response {
  const message = error.code === "internal" ? "ERR internal error" : error.message;
  if (error.retryAfterSeconds !== undefined) c.header("Retry-After", String(error.retryAfterSeconds));
  return c.json({ error: message, code: error.code }, error.status as ContentfulStatusCode);
}

/**
 * What a token may do: `full`, `read`, or undefined for no or an unknown token. Every accepted
 * token is compared, each in constant time (hashing first makes the lengths equal), so the time
 * taken does not tell which kind of token was close.
 */
function tokenChecker(
  full: readonly string[],
  readOnly: readonly string[],
): (candidate?: string) => Access | undefined {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  const known = [
    ...full.map((value) => ({ digest: digest(value), access: "full" as const })),
    ...readOnly.map((value) => ({ digest: digest(value), access: "read" as const })),
  ];
  return (candidate) => {
    if (candidate === undefined || candidate === "") return undefined;
    const presented = digest(candidate);
    let access: Access | undefined;
    for (const entry of known) if (timingSafeEqual(presented, entry.digest)) access ??= entry.access;
    return access;
  };
}
