import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningRedisRestServer, startRedisRestServer } from "../../../../bridges/redis-rest/serve.ts";
import { serviceUrls } from "../../../../scripts/service-probe.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../../../../test/support/redis-gateway-user.ts";
import { requireService } from "../../../../test/support/services.ts";
import { runDedupStoreContract } from "./dedup-store.contract.ts";
import { RedisDedupStore } from "./redis-dedup-store.ts";

/** Real Redis behind the bridge's Upstash Redis REST gateway — the same path the Worker takes. */
const available = await requireService("redis", "RedisDedupStore");
const token = "redis-dedup-store-test-token";
let gateway: RunningRedisRestServer | undefined;
let gatewayUser: GatewayRedisUser | undefined;
/** Full access, to inspect what the store wrote (the gateway's own user may not run KEYS). */
let admin: IORedis | undefined;
// Under edgebus:*, the key patterns the gateway's ACL user gets by default.
const prefix = `edgebus:test:dedup:${crypto.randomUUID()}`;

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
    await store.begin("/svc\u0000id-1", "a", {
      plan: ["queue:archive"],
      firstSeenAt: "2026-11-01T00:00:00.000Z",
      leaseMs: 1000,
    });
    const keys = await admin?.keys(`${prefix}:event:*`);
    expect(keys?.every((key) => /:event:[0-9a-f]{64}$/.test(key))).toBe(true);
    const ttls = await Promise.all((keys ?? []).map((key) => admin?.ttl(key)));
    expect(ttls.every((ttl) => ttl !== undefined && ttl > 86_000 && ttl <= 86_400)).toBe(true);
  });

  it("reports an unreachable Redis as upstream_unavailable", async () => {
    const store = new RedisDedupStore(new Redis({ url: "http://127.0.0.1:9", token, retry: { retries: 0 } }), prefix);
    await expect(store.get("k")).rejects.toMatchObject({ code: "upstream_unavailable" });
  });
});
