import { createHash, timingSafeEqual } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import { EdgebusError, toEdgebusError } from "#shared/errors.ts";
import { type BodyBudget, type BodyLimits, bodyText } from "../http/bounded-body.ts";
import { parseCommandList, parseSingleCommand, type RedisCommand } from "./command-body.ts";
import { allowedCommandEntry, CommandPolicy } from "./command-policy.ts";
import { type CommandOutcome, RedisCommandRunner } from "./command-runner.ts";
import { RedisSubscriptions } from "./subscriptions.ts";
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

/** What a token may do. */
export type Access = "full" | "read";

/** An answer before it is written: the status, the JSON value, and `Retry-After` when it has one. */
export interface CoreAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly retryAfter?: string;
}

/**
 * What the gateway does per request, whichever HTTP layer carries it (the Hono app in `app.ts`,
 * the lean routes in `lean-routes.ts`): one instance per gateway, so both layers share the
 * transaction connections, the script map, the user guard and the body budget, and answer alike.
 *
 * The order of the checks is part of the contract: the token (headers or query) before a byte of
 * the body is read, then the body within the limits, its shape, every command against the policy
 * and the token's scope, then the Redis user guard, and only then Redis.
 */
export class RedisRestCore {
  readonly redis: Redis;
  readonly policy: CommandPolicy;
  readonly guard: RedisUserGuard;
  readonly runner: RedisCommandRunner;
  readonly subscriptions: RedisSubscriptions | undefined;
  readonly allowQueryToken: boolean;
  readonly maxCommands: number;
  /** The body limits of every body-carrying route (the request limit and the area's budget). */
  readonly bodyLimits: BodyLimits;
  readonly #accessOf: (candidate?: string) => Access | undefined;

  constructor(options: RedisRestAppOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new EdgebusError("bad_request", `invalid Redis REST gateway options: ${z.prettifyError(parsed.error)}`);
    }
    const { maxRequestBytes, maxCommands, maxTransactionConnections, allowQueryToken } = parsed.data;
    this.redis = options.redis;
    this.policy = new CommandPolicy({ allowCommands: parsed.data.allowCommands });
    this.guard =
      options.userGuard ??
      new RedisUserGuard(options.redis, {
        policy: this.policy,
        allowUnrestrictedUser: parsed.data.allowUnrestrictedUser,
      });
    this.runner = new RedisCommandRunner(options.redis, { transactions: { max: maxTransactionConnections } });
    this.subscriptions =
      options.subscriptions === false ? undefined : (options.subscriptions ?? new RedisSubscriptions(options.redis));
    options.redis.once("end", () => {
      void this.runner.close();
      this.subscriptions?.closeAll();
    });
    const fullTokens = typeof parsed.data.token === "string" ? [parsed.data.token] : parsed.data.token;
    this.#accessOf = tokenChecker(fullTokens, parsed.data.readOnlyTokens);
    this.allowQueryToken = allowQueryToken;
    this.maxCommands = maxCommands;
    this.bodyLimits = { maxBytes: maxRequestBytes, ...(options.bodyBudget ? { budget: options.bodyBudget } : {}) };
  }

  /**
   * The access of the request's token: `Authorization: Bearer <token>`, else (when allowed) the
   * `_token` query parameter, read only when needed. Throws `unauthorized` without a known token.
   */
  authorize(authorization: string | undefined, queryToken: () => string | undefined): Access {
    const bearer = authorization === undefined ? undefined : /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
    const access = this.#accessOf(bearer ?? (this.allowQueryToken ? queryToken() : undefined));
    if (access === undefined) {
      throw new EdgebusError("unauthorized", "Unauthorized: missing or invalid token (Bearer header or _token)");
    }
    return access;
  }

  /** Throws unless `command` is on the allow list and within the token's scope. */
  assertPermitted(access: Access, command: RedisCommand): void {
    this.policy.assertAllowed(command);
    if (access === "read") this.policy.assertReadOnly(command);
  }

  /** `POST /`: one command; a Redis error is a 400 in the Upstash shape. */
  async single(access: Access, command: RedisCommand, base64: boolean): Promise<CoreAnswer> {
    this.assertPermitted(access, command);
    await this.guard.assertServable();
    const outcome = await this.runner.runOne(command, base64);
    return { status: "error" in outcome ? 400 : 200, body: outcome };
  }

  /** `POST /` with its JSON body (`["set", "k", "v"]`). */
  singleFromBody(access: Access, body: Uint8Array, base64: boolean): Promise<CoreAnswer> {
    return this.single(access, parseSingleCommand(parseJson(body)), base64);
  }

  /** `POST /pipeline`: every command's outcome in order, Redis errors in place. */
  async pipelineFromBody(access: Access, body: Uint8Array, base64: boolean): Promise<CommandOutcome[]> {
    const commands = this.#commandsOf(access, body);
    await this.guard.assertServable();
    return this.runner.runPipeline(commands, base64);
  }

  /** `POST /multi-exec`: the transaction's outcomes; a discarded transaction throws `bad_request`. */
  async transactionFromBody(access: Access, body: Uint8Array, base64: boolean): Promise<CommandOutcome[]> {
    const commands = this.#commandsOf(access, body);
    await this.guard.assertServable();
    return this.runner.runTransaction(commands, base64);
  }

  #commandsOf(access: Access, body: Uint8Array): RedisCommand[] {
    const commands = parseCommandList(parseJson(body), { maxCommands: this.maxCommands });
    for (const command of commands) this.assertPermitted(access, command);
    return commands;
  }
}

/** `Upstash-Encoding: base64` (any case), as `Headers.get` gives the header. */
export function wantsBase64(header: string | undefined): boolean {
  return header?.toLowerCase() === "base64";
}

/** The body as JSON (decoded as `Request.text()` decodes it); 400 `malformed_json` otherwise. */
function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(bodyText(body));
  } catch {
    throw new EdgebusError("malformed_json", "ERR the body is not valid JSON");
  }
}

/**
 * Upstash's error shape `{error: string}` (the client reads `body.error` as the message), plus
 * edgebus's closed error `code` for machines, as the Kafka REST gateway does; the status comes
 * from the code. Errors Redis itself returns for a command are not rendered here.
 */
export function errorAnswer(thrown: unknown): CoreAnswer {
  const error = toEdgebusError(thrown);
  const message = error.code === "internal" ? "ERR internal error" : error.message;
  return {
    status: error.status,
    body: { error: message, code: error.code },
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfter: String(error.retryAfterSeconds) }),
  };
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
