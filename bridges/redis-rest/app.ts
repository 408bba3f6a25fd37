import { createHash, timingSafeEqual } from "node:crypto";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Redis } from "ioredis";
import { z } from "zod";
import { EdgebusError, toEdgebusError } from "#shared/errors.ts";
import { type BodyBudget, type BodyLimits, readBoundedText } from "../http/bounded-body.ts";
import { parseCommandList, parseSingleCommand, type RedisCommand } from "./command-body.ts";
import { allowedCommandEntry, CommandPolicy } from "./command-policy.ts";
import { type CommandOutcome, RedisCommandRunner } from "./command-runner.ts";
import { RedisUserGuard } from "./user-guard.ts";

const optionsSchema = z.object({
  token: z.string().min(16, { error: "the Redis REST token must have at least 16 characters" }),
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
  /** The Bearer token clients must send (`BRIDGE_REDIS_REST_TOKEN`). */
  readonly token: string;
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
  const { token, maxRequestBytes, maxCommands, maxTransactionConnections } = parsed.data;
  const policy = new CommandPolicy({ allowCommands: parsed.data.allowCommands });
  const guard =
    options.userGuard ??
    new RedisUserGuard(options.redis, { policy, allowUnrestrictedUser: parsed.data.allowUnrestrictedUser });
  const runner = new RedisCommandRunner(options.redis, { transactions: { max: maxTransactionConnections } });
  options.redis.once("end", () => void runner.close());
  const isValidToken = tokenChecker(token);
  const assertAllowed = (command: RedisCommand) => policy.assertAllowed(command);

  const app = new Hono();

  app.onError((error, c) => renderError(c, toEdgebusError(error)));
  app.notFound((c) => renderError(c, new EdgebusError("not_found", `no route for ${c.req.method} ${c.req.path}`)));

  app.use("*", async function requireBearerToken(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1] || !isValidToken(match[1].trim())) {
      throw new EdgebusError("unauthorized", "Unauthorized: missing or invalid Bearer token");
    }
    await next();
  });

  // Read only after the token was checked, counted on the stream (chunked too), within the limit
  // and the area's budget (bridges/http/bounded-body.ts).
  const bodyLimits = { maxBytes: maxRequestBytes, ...(options.bodyBudget ? { budget: options.bodyBudget } : {}) };
  const readJson = (c: Context) => readJsonBody(c, bodyLimits);

  app.post("/", async (c) => {
    const command = parseSingleCommand(await readJson(c));
    assertAllowed(command);
    await guard.assertServable();
    const outcome = await runner.runOne(command, wantsBase64(c));
    return "error" in outcome ? c.json(outcome, 400) : c.json(outcome);
  });

  app.post("/pipeline", async (c) => {
    const commands = parseCommandList(await readJson(c), { maxCommands });
    commands.forEach(assertAllowed);
    await guard.assertServable();
    const outcomes: CommandOutcome[] = await runner.runPipeline(commands, wantsBase64(c));
    return c.json(outcomes);
  });

  app.post("/multi-exec", async (c) => {
    const commands = parseCommandList(await readJson(c), { maxCommands });
    commands.forEach(assertAllowed);
    await guard.assertServable();
    return c.json(await runner.runTransaction(commands, wantsBase64(c)));
  });

  for (const path of ["/", "/pipeline", "/multi-exec"]) {
    app.all(path, (c) => {
      c.header("Allow", "POST");
      return renderError(c, new EdgebusError("method_not_allowed", `${c.req.method} is not allowed; use POST`));
    });
  }

  return app;
}

function wantsBase64(c: Context): boolean {
  return c.req.header("upstash-encoding")?.toLowerCase() === "base64";
}

async function readJsonBody(c: Context, limits: BodyLimits): Promise<unknown> {
  const contentType = c.req.header("content-type") ?? "";
  if (contentType.split(";")[0]?.trim().toLowerCase() !== "application/json") {
    throw new EdgebusError(
      "unsupported_media_type",
      "ERR the body must be JSON sent as Content-Type: application/json",
    );
  }
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

/** Compares tokens in constant time (hashing first makes the lengths equal). */
function tokenChecker(expected: string): (candidate: string) => boolean {
  const expectedDigest = createHash("sha256").update(expected).digest();
  return (candidate) => timingSafeEqual(createHash("sha256").update(candidate).digest(), expectedDigest);
}
