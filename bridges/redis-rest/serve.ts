import { type ServerType, serve } from "@hono/node-server";
import { Redis } from "ioredis";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { createRedisRestApp } from "./app.ts";

const log = createLogger({ component: "redis-rest" });

export interface RedisRestServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly redisUrl: string;
  readonly token: string;
  readonly hostname?: string;
  readonly maxRequestBytes?: number;
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
 * client gets a 503 it can act on.
 */
export function connectGatewayRedis(redisUrl: string): Redis {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 10_000 });
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

/** Starts the gateway alone on a port (tests, local tools). The bridge mounts the app under `/redis`. */
export async function startRedisRestServer(options: RedisRestServerOptions): Promise<RunningRedisRestServer> {
  const redis = connectGatewayRedis(options.redisUrl);
  const app = createRedisRestApp({
    redis,
    token: options.token,
    ...(options.maxRequestBytes === undefined ? {} : { maxRequestBytes: options.maxRequestBytes }),
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
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
