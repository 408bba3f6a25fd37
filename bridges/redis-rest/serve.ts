import { type ServerType, serve } from "@hono/node-server";
import { Redis } from "ioredis";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { createRedisRestApp } from "./app.ts";
import { CommandPolicy } from "./command-policy.ts";
import { RedisSubscriptions } from "./subscriptions.ts";
import { RedisUserGuard } from "./user-guard.ts";

const log = createLogger({ component: "redis-rest" });

export interface RedisRestServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly redisUrl: string;
  readonly token: string | readonly string[];
  /** Read-only tokens (read commands only). */
  readonly readOnlyTokens?: readonly string[];
  readonly hostname?: string;
  readonly maxRequestBytes?: number;
  readonly maxTransactionConnections?: number;
  readonly allowCommands?: readonly string[];
  /** Serve over a Redis user that is not the restricted ACL user (a warning is logged). */
  readonly allowUnrestrictedUser?: boolean;
}

export interface RunningRedisRestServer {
  /** Base URL for `new Redis({ url, token })` from `@upstash/redis`. */
  readonly url: string;
  /** The gateway's own Redis connection (tests use it to inspect or flush scripts). */
  readonly redis: Redis;
  close(): Promise<void>;
}

/**
 * Connects to Redis the way a REST gateway should: a request fails fast (one retry) instead of
 * waiting in ioredis's offline queue forever, and a command that hangs times out, so the HTTP
 * client gets a 503 it can act on: the command runner and the user guard put one deadline
 * (`GATEWAY_COMMAND_TIMEOUT_MS`) on each pipeline or probe instead of ioredis's timer per command,
 * and the connections duplicated from this one (transactions, subscriptions, `SCRIPT KILL`) get
 * ioredis's `commandTimeout`. It sends nothing on connect beyond AUTH and SELECT: no INFO
 * ready check and no CLIENT SETINFO, which the gateway's ACL user may not run (each refusal would
 * land in Redis's ACL LOG).
 */
export function connectGatewayRedis(redisUrl: string): Redis {
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: 1,
    enableReadyCheck: false,
    disableClientInfo: true,
  });
  // ioredis reports every failed reconnect attempt; one line per outage is enough for operators
  // (requests meanwhile get 503s). The URL is not logged: it may carry a password.
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    log.log("warn", "Redis connection failed; answering 503 until it is back", errorLogFields(error));
  });
  redis.on("ready", () => {
    down = false;
  });
  return redis;
}

export interface GatewayRedisOptions {
  /** `redis://user:password@host:port/db`: the gateway's ACL user (`redis-acl.ts`). */
  readonly url: string;
  readonly allowCommands?: readonly string[];
  readonly allowUnrestrictedUser?: boolean;
}

/** Startup wait for Redis's answer on who the gateway is; past it the bridge starts and checks per request. */
const STARTUP_USER_CHECK_MS = 5_000;

/**
 * Connects the gateway's Redis and checks, before anything is served, that its user is the
 * restricted ACL user (or that `allowUnrestrictedUser` allows another). Rejects, with the
 * connection closed, when Redis answers as an unrestricted user that was not allowed.
 */
export async function openGatewayRedis(options: GatewayRedisOptions): Promise<{ redis: Redis; guard: RedisUserGuard }> {
  const redis = connectGatewayRedis(options.url);
  const guard = new RedisUserGuard(redis, {
    policy: new CommandPolicy(options.allowCommands ? { allowCommands: options.allowCommands } : {}),
    allowUnrestrictedUser: options.allowUnrestrictedUser ?? false,
  });
  try {
    await guard.verifyAtStartup(STARTUP_USER_CHECK_MS);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return { redis, guard };
}

/**
 * Starts the gateway alone on a port (tests, local tools). The bridge mounts the app under `/redis`.
 * Rejects when Redis answers as a user that is not restricted to the allow list, unless
 * `allowUnrestrictedUser` is set.
 */
export async function startRedisRestServer(options: RedisRestServerOptions): Promise<RunningRedisRestServer> {
  const allowUnrestrictedUser = options.allowUnrestrictedUser ?? false;
  const { redis, guard: userGuard } = await openGatewayRedis({
    url: options.redisUrl,
    allowUnrestrictedUser,
    ...(options.allowCommands === undefined ? {} : { allowCommands: options.allowCommands }),
  });
  const subscriptions = new RedisSubscriptions(redis);
  const app = createRedisRestApp({
    redis,
    token: options.token,
    ...(options.readOnlyTokens === undefined ? {} : { readOnlyTokens: options.readOnlyTokens }),
    subscriptions,
    userGuard,
    allowUnrestrictedUser,
    ...(options.maxRequestBytes === undefined ? {} : { maxRequestBytes: options.maxRequestBytes }),
    ...(options.maxTransactionConnections === undefined
      ? {}
      : { maxTransactionConnections: options.maxTransactionConnections }),
    ...(options.allowCommands === undefined ? {} : { allowCommands: options.allowCommands }),
  });
  const hostname = options.hostname ?? "127.0.0.1";
  const server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: app.fetch, port: options.port, hostname }, () => resolve(started));
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  return {
    url: `http://${hostname}:${port}`,
    redis,
    close: async () => {
      subscriptions.closeAll();
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      await closed;
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
