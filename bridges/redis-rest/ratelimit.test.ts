import { randomBytes, randomUUID } from "node:crypto";
import { type ServerType, serve } from "@hono/node-server";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis as UpstashRedis } from "@upstash/redis";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../../test/support/redis-gateway-user.ts";
import { requireService } from "../../test/support/services.ts";
import { createRedisRestApp } from "./app.ts";

const available = await requireService("redis", "redis-rest gateway (@upstash/ratelimit)");
const token = randomBytes(24).toString("hex");
const prefix = `t:brokers:${randomUUID()}:rl`;

/** What crossed the wire: every command name sent and every NOSCRIPT answered. */
interface WireLog {
  commands: { name: string; firstArg: string }[];
  noscriptReplies: number;
}

/**
 * A fresh gateway (empty script map) behind a recording layer, so the test can count the EVAL,
 * EVALSHA and NOSCRIPT traffic `@upstash/ratelimit` really produced.
 */
async function startRecordedGateway(log: WireLog, redisUrl: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const outer = new Hono();
  outer.use("*", async (c, next) => {
    const body = (await c.req.raw.clone().json()) as unknown[];
    const commands = (c.req.path.endsWith("/") ? [body] : body) as unknown[][];
    for (const command of commands) {
      log.commands.push({ name: String(command[0]).toLowerCase(), firstArg: String(command[1]) });
    }
    await next();
    log.noscriptReplies += (await c.res.clone().text()).split("NOSCRIPT").length - 1;
  });
  outer.route("/", createRedisRestApp({ redis, token }));
  const server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: outer.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    redis,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await redis.quit();
    },
  };
}

describe.skipIf(!available)("@upstash/ratelimit 2.2 against the gateway", () => {
  const log: WireLog = { commands: [], noscriptReplies: 0 };
  let gateway: Awaited<ReturnType<typeof startRecordedGateway>>;
  let user: GatewayRedisUser;
  let client: UpstashRedis;

  beforeAll(async () => {
    // The gateway's restricted ACL user: the library's scripts must run within the allow list.
    user = await createGatewayRedisUser(serviceUrls.redis);
    gateway = await startRecordedGateway(log, user.url);
    client = new UpstashRedis({ url: gateway.url, token, retry: { retries: 0 } });
  });
  afterAll(async () => {
    const admin = new Redis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
    await gateway?.close();
    await user?.drop();
  });

  const limiter = (kind: "sliding" | "fixed") =>
    new Ratelimit({
      redis: client,
      limiter: kind === "sliding" ? Ratelimit.slidingWindow(5, "60 s") : Ratelimit.fixedWindow(3, "1 h"),
      prefix: `${prefix}:${kind}`,
      // The in-process cache would answer blocked calls without asking Redis; the test wants Redis.
      ephemeralCache: false,
    });

  it("slidingWindow allows the limit and blocks the rest, per identifier", async () => {
    const ratelimit = limiter("sliding");
    const first: boolean[] = [];
    for (let i = 0; i < 7; i++) first.push((await ratelimit.limit("citizen-a")).success);
    expect(first).toEqual([true, true, true, true, true, false, false]);
    const other = await ratelimit.limit("citizen-b");
    expect(other).toMatchObject({ success: true, limit: 5, remaining: 4 });
  });

  it("fixedWindow allows the limit and blocks the rest", async () => {
    const ratelimit = limiter("fixed");
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await ratelimit.limit("citizen-a"));
    expect(results.map((r) => r.success)).toEqual([true, true, true, false, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0, 0]);
  });

  it("ran the allow-key-locking scripts once each through EVAL and then only EVALSHA", () => {
    const evals = log.commands.filter((command) => command.name === "eval");
    const evalshas = log.commands.filter((command) => command.name === "evalsha");
    // The trap is exercised: the scripts carry the flag Redis 7 rejects.
    expect(evals.every((command) => command.firstArg.startsWith("#!lua flags=allow-key-locking"))).toBe(true);
    // One NOSCRIPT + EVAL per script (sliding, fixed); every other call hit the mapped SHA.
    expect(evals).toHaveLength(2);
    expect(log.noscriptReplies).toBe(2);
    expect(evalshas).toHaveLength(8 + 5);
  });

  it("resetUsedTokens (SCAN + DEL inside Lua) lets a blocked identifier through again", async () => {
    const ratelimit = limiter("fixed");
    expect((await ratelimit.limit("citizen-a")).success).toBe(false);
    await ratelimit.resetUsedTokens("citizen-a");
    expect(await ratelimit.limit("citizen-a")).toMatchObject({ success: true, remaining: 2 });
    expect(await ratelimit.getRemaining("citizen-a")).toMatchObject({ remaining: 2, limit: 3 });
  });
});
