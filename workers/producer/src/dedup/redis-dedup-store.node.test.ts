import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningRedisRestServer, startRedisRestServer } from "../../../../bridges/redis-rest/serve.ts";
import { serviceUrls } from "../../../../scripts/service-probe.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../../../../test/support/redis-gateway-user.ts";
import { requireService } from "../../../../test/support/services.ts";
import { runDedupStoreContract } from "./dedup-store.contract.ts";
import { RedisDedupStore } from "./redis-dedup-store.ts";
import { RedisScript } from "./redis-script.ts";

/** Real Redis behind the bridge's Upstash Redis REST gateway — the same path the Worker takes. */
const available = await requireService("redis", "RedisDedupStore");
const token = "redis-dedup-store-test-token";
let gateway: RunningRedisRestServer | undefined;
let gatewayUser: GatewayRedisUser | undefined;
/** Full access, to inspect what the store wrote (the gateway's own user may not run KEYS). */
let admin: IORedis | undefined;
// Under edgebus:*, the key patterns the gateway's ACL user gets by default.
const prefix = `edgebus:test:dedup:${crypto.randomUUID()}`;

/** The command names of a request body: one command (`["evalsha", …]`) or a pipeline of them. */
function commandNames(body: string): string[] {
  const parsed = JSON.parse(body) as unknown[];
  const commands = Array.isArray(parsed[0]) ? (parsed as unknown[][]) : [parsed];
  return commands.map((command) => String(command[0]).toLowerCase());
}

function client(): Redis {
  if (gateway === undefined) throw new Error("gateway not started");
  return new Redis({ url: gateway.url, token });
}

describe.skipIf(!available)("RedisDedupStore through the Redis REST gateway", () => {
  beforeAll(async () => {
    admin = new IORedis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    gatewayUser = await createGatewayRedisUser(serviceUrls.redis, { keyPatterns: ["edgebus:*"] });
    gateway = await startRedisRestServer({ port: 0, redisUrl: gatewayUser.url, token });
  });
  afterAll(async () => {
    const keys = (await admin?.keys(`${prefix}:*`)) ?? [];
    if (keys.length > 0) await admin?.del(...keys);
    await gateway?.close();
    await gatewayUser?.drop();
    admin?.disconnect();
  });

  runDedupStoreContract("RedisDedupStore", () => new RedisDedupStore(client(), prefix));

  it("stores records with the 24 h expiry and hashed keys", async () => {
    const store = new RedisDedupStore(client(), prefix);
    await store.beginMany([{ key: "/svc\u0000id-1", holder: "a", plan: ["queue:archive"] }], {
      firstSeenAt: "2026-11-01T00:00:00.000Z",
      leaseMs: 1000,
    });
    const keys = await admin?.keys(`${prefix}:event:*`);
    expect(keys?.every((key) => /:event:[0-9a-f]{64}$/.test(key))).toBe(true);
    const ttls = await Promise.all((keys ?? []).map((key) => admin?.ttl(key)));
    expect(ttls.every((ttl) => ttl !== undefined && ttl > 86_000 && ttl <= 86_400)).toBe(true);
  });

  it("costs two Redis round trips for a request of 100 events, rate limit included", async () => {
    const store = new RedisDedupStore(client(), prefix);
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    try {
      const items = Array.from({ length: 100 }, (_, i) => ({
        key: `/svc\u0000rt-${i}`,
        holder: "h",
        plan: ["queue:archive"],
      }));
      const answer = await store.beginMany(items, {
        firstSeenAt: new Date().toISOString(),
        leaseMs: 10_000,
        admission: { keyId: `rt-${crypto.randomUUID()}`, limit: { requests: 1000, window_seconds: 60 }, cost: 100 },
      });
      expect(answer).toMatchObject({ admitted: true, decision: { remaining: 900 } });
      await store.finishMany(items.map(({ key, holder }) => ({ key, holder, delivered: {}, complete: true })));
      expect(fetchSpy).toHaveBeenCalledTimes(2);
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it("sends its scripts by SHA-1: the text only once Redis does not hold them", async () => {
    const store = new RedisDedupStore(client(), prefix);
    const items = [{ key: `/svc\u0000sha-${crypto.randomUUID()}`, holder: "h", plan: ["queue:archive"] }];
    const options = { firstSeenAt: new Date().toISOString(), leaseMs: 10_000 };
    await store.beginMany(items, options); // Redis holds the scripts from here on, whatever ran before.
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    try {
      await store.finishMany(items.map(({ key, holder }) => ({ key, holder, delivered: {}, complete: true })));
      await store.beginMany([{ ...items[0], key: `${items[0]?.key}-2` } as (typeof items)[number]], options);
      const bodies = fetchSpy.mock.calls.map(([, init]) => String(init?.body));
      expect(bodies).toHaveLength(2);
      for (const body of bodies) {
        expect(commandNames(body)).toEqual(["evalsha"]);
        expect(body).not.toContain("redis.call");
      }
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it("runs a script Redis does not hold once, by its text after NOSCRIPT, and by SHA-1 afterwards", async () => {
    // A script text no other test sends, so Redis cannot hold it yet.
    const key = `${prefix}:script:${crypto.randomUUID()}`;
    const script = new RedisScript(`-- ${crypto.randomUUID()}\nreturn redis.call('INCR', KEYS[1])`);
    expect(await admin?.script("EXISTS", await script.sha())).toEqual([0]);
    const redis = client();
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    try {
      expect(await script.run(redis, [key], [])).toBe(1);
      const commands = () => fetchSpy.mock.calls.flatMap(([, init]) => commandNames(String(init?.body)));
      expect(commands()).toEqual(["evalsha", "eval"]);
      expect(await script.run(redis, [key], [])).toBe(2);
      expect(commands()).toEqual(["evalsha", "eval", "evalsha"]);
    } finally {
      fetchSpy.mockRestore();
    }
    // The failed EVALSHA ran nothing: the counter counts the two runs.
    expect(await admin?.get(key)).toBe("2");
  });

  it("passes on a script's own errors without running its text again", async () => {
    const script = new RedisScript(`-- ${crypto.randomUUID()}\nreturn redis.error_reply('BOOM the script failed')`);
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    try {
      await expect(script.run(client(), [], [])).rejects.toThrow(/BOOM the script failed/);
      await expect(script.run(client(), [], [])).rejects.toThrow(/BOOM the script failed/);
      // NOSCRIPT then EVAL the first time; by SHA-1 the second time, its error not taken for NOSCRIPT.
      expect(fetchSpy).toHaveBeenCalledTimes(3);
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it("weights the previous window by its overlap (sliding window)", async () => {
    let now = Date.UTC(2026, 10, 1, 0, 0, 0);
    const store = new RedisDedupStore(client(), prefix, 1000, () => now);
    const admission = (cost: number) => ({
      firstSeenAt: new Date(now).toISOString(),
      leaseMs: 1000,
      admission: { keyId: `sw-${keyId}`, limit: { requests: 10, window_seconds: 60 }, cost },
    });
    const keyId = crypto.randomUUID();
    expect((await store.beginMany([], admission(10))).admitted).toBe(true);
    expect((await store.beginMany([], admission(1))).admitted).toBe(false);
    now += 60_000 + 30_000; // half-way through the next window: 5 of the previous 10 still count
    expect(await store.beginMany([], admission(5))).toMatchObject({ admitted: true, decision: { remaining: 0 } });
    expect(await store.beginMany([], admission(1))).toMatchObject({
      admitted: false,
      decision: { resetAt: Date.UTC(2026, 10, 1, 0, 2, 0) },
    });
  });

  it("reports an unreachable Redis as upstream_unavailable", async () => {
    const store = new RedisDedupStore(new Redis({ url: "http://127.0.0.1:9", token, retry: { retries: 0 } }), prefix);
    await expect(store.get("k")).rejects.toMatchObject({ code: "upstream_unavailable" });
  });
});
