import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../../test/support/redis-gateway-user.ts";
import { requireService } from "../../test/support/services.ts";
import { type RunningRedisRestServer, startRedisRestServer } from "./serve.ts";

const available = await requireService("redis", "redis-rest gateway (@upstash/redis client)");
const token = randomBytes(24).toString("hex");
const prefix = `t:brokers:${randomUUID()}:`;

/** The unmodified client with its defaults: base64 responses and auto-pipelining. */
describe.skipIf(!available)("@upstash/redis against the gateway", () => {
  let server: RunningRedisRestServer;
  let user: GatewayRedisUser;
  let redis: Redis;

  beforeAll(async () => {
    // The gateway as deployed: connected as its restricted ACL user.
    user = await createGatewayRedisUser(serviceUrls.redis);
    server = await startRedisRestServer({ port: 0, redisUrl: user.url, token });
    redis = new Redis({ url: server.url, token, retry: { retries: 0 } });
  });
  afterAll(async () => {
    const admin = new IORedis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
    await server?.close();
    await user?.drop();
  });

  it("stores and reads strings, including ones that look like base64 or status replies", async () => {
    const values = ["abcd", "T0s=", "OK", "héllo wörld ✓", "", "line\nbreak"];
    for (const [index, value] of values.entries()) {
      expect(await redis.set(`${prefix}s${index}`, value)).toBe("OK");
    }
    const read = await Promise.all(values.map((_, index) => redis.get<string>(`${prefix}s${index}`)));
    expect(read).toEqual(values);
  });

  it("returns null for missing keys and numbers for counters", async () => {
    expect(await redis.get(`${prefix}missing`)).toBeNull();
    expect(await redis.incr(`${prefix}counter`)).toBe(1);
    expect(await redis.incrby(`${prefix}counter`, 41)).toBe(42);
    expect(await redis.get(`${prefix}counter`)).toBe(42);
  });

  it("round-trips objects as JSON values", async () => {
    await redis.set(`${prefix}json`, { citizen: "c-1", tags: ["a", "b"] }, { ex: 60 });
    expect(await redis.get(`${prefix}json`)).toEqual({ citizen: "c-1", tags: ["a", "b"] });
    expect(await redis.ttl(`${prefix}json`)).toBeGreaterThan(0);
  });

  it("handles hashes", async () => {
    expect(await redis.hset(`${prefix}h`, { name: "Ada", visits: 3, code: "YmFy" })).toBe(3);
    expect(await redis.hget(`${prefix}h`, "name")).toBe("Ada");
    expect(await redis.hgetall(`${prefix}h`)).toEqual({ name: "Ada", visits: 3, code: "YmFy" });
    expect(await redis.hincrby(`${prefix}h`, "visits", 2)).toBe(5);
  });

  it("handles sorted sets whose members look like base64", async () => {
    await redis.zadd(
      `${prefix}z`,
      { score: 1, member: "abcd" },
      { score: 2, member: "T0s=" },
      { score: 3, member: "YmFy" },
    );
    expect(await redis.zrange(`${prefix}z`, 0, -1)).toEqual(["abcd", "T0s=", "YmFy"]);
    expect(await redis.zrange(`${prefix}z`, 0, -1, { withScores: true })).toEqual(["abcd", 1, "T0s=", 2, "YmFy", 3]);
    expect(await redis.zscore(`${prefix}z`, "T0s=")).toBe(2);
  });

  it("rejects a failing command with Redis's error text", async () => {
    await redis.set(`${prefix}text`, "not a number");
    await expect(redis.incr(`${prefix}text`)).rejects.toThrow("ERR value is not an integer or out of range");
  });

  it("auto-pipelines concurrent commands and keeps each answer with its command", async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `${prefix}ap${i}`);
    await Promise.all(keys.map((key, i) => redis.set(key, `v${i}`)));
    const [values, failure] = await Promise.all([
      Promise.all(keys.map((key) => redis.get(key))),
      redis.incr(`${prefix}ap0`).catch((error: Error) => error.message),
    ]);
    expect(values).toEqual(keys.map((_, i) => `v${i}`));
    expect(failure).toContain("ERR value is not an integer");
  });

  it("runs explicit pipelines, keeping errors in place", async () => {
    const pipeline = redis.pipeline();
    pipeline.set(`${prefix}p`, "1");
    pipeline.incr(`${prefix}p`);
    pipeline.hset(`${prefix}p`, { a: 1 });
    pipeline.get(`${prefix}p`);
    const results = await pipeline.exec({ keepErrors: true });
    expect(results.map((item) => item.result)).toEqual(["OK", 2, undefined, 2]);
    expect(results[2]?.error).toContain("WRONGTYPE");
  });

  it("runs multi() as a transaction", async () => {
    const tx = redis.multi();
    tx.set(`${prefix}tx`, "10");
    tx.incrby(`${prefix}tx`, 5);
    tx.get(`${prefix}tx`);
    expect(await tx.exec()).toEqual(["OK", 15, 15]);
  });

  it("evaluates scripts, including Upstash's allow-key-locking shebang", async () => {
    const script = `#!lua flags=allow-key-locking\nreturn {KEYS[1], ARGV[1], ${Date.now()}}`;
    const [key, arg] = (await redis.eval(script, [`${prefix}k`], ["arg"])) as [string, string, number];
    expect([key, arg]).toEqual([`${prefix}k`, "arg"]);
    const sha = await redis.scriptLoad(script);
    const expectedSha = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(script));
    expect(sha).toBe(Buffer.from(expectedSha).toString("hex"));
    expect(await redis.evalsha(sha, [`${prefix}k`], ["again"])).toEqual([`${prefix}k`, "again", expect.any(Number)]);
    expect(await redis.scriptExists(sha)).toEqual([1]);
  });

  it("works with auto-pipelining disabled (every command through POST /)", async () => {
    const plain = new Redis({ url: server.url, token, enableAutoPipelining: false });
    await plain.set(`${prefix}np`, "abcd");
    expect(await plain.get(`${prefix}np`)).toBe("abcd");
    await expect(plain.incr(`${prefix}np`)).rejects.toThrow("ERR value is not an integer");
  });

  it("is rejected with a wrong token", async () => {
    const intruder = new Redis({ url: server.url, token: `${token}-wrong`, retry: { retries: 0 } });
    await expect(intruder.get(`${prefix}s0`)).rejects.toThrow(/Unauthorized/);
  });
});
