import { describe, expect, it } from "vitest";
import { serviceUrls } from "../scripts/service-probe.ts";
import { createGatewayRedisUser } from "../test/support/redis-gateway-user.ts";
import { requireService } from "../test/support/services.ts";
import { parseBridgeConfig } from "./config.ts";
import { startBridge } from "./server.ts";

const available = await requireService("redis", "bridge server (Redis only)");

describe.runIf(available)("bridge server without Kafka", () => {
  const redisOnly = (url: string, extra: Record<string, unknown> = {}) =>
    parseBridgeConfig(
      {
        port: 0,
        // Nothing listens here: the bridge must not probe or connect to it.
        kafka: { brokers: ["127.0.0.1:1"] },
        kafkaRest: { enabled: false },
        redisRest: { url, token: "redis-only-token-0001", ...extra },
      },
      {},
    );

  it("serves /redis and a healthy /healthz without creating Kafka clients", async () => {
    const user = await createGatewayRedisUser(serviceUrls.redis);
    const bridge = await startBridge(redisOnly(user.url)).catch(async (error: unknown) => {
      await user.drop();
      throw error;
    });
    try {
      const health = await fetch(`${bridge.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok", checks: { redis: "ok" } });
      expect((await fetch(`${bridge.url}/kafka/topics`)).status).toBe(404);
      expect((await fetch(`${bridge.url}/v1/mirror`, { method: "POST", body: "{}" })).status).toBe(404);
    } finally {
      await bridge.close();
      await user.drop();
    }
  });

  it("refuses to start over an unrestricted Redis user unless redisRest.allowUnrestrictedUser is set", async () => {
    // serviceUrls.redis names no user: Redis's `default` user, which may run anything.
    await expect(startBridge(redisOnly(serviceUrls.redis))).rejects.toThrow(/not restricted to the allow list/);
    const bridge = await startBridge(redisOnly(serviceUrls.redis, { allowUnrestrictedUser: true }));
    try {
      const res = await fetch(`${bridge.url}/redis`, {
        method: "POST",
        headers: { authorization: "Bearer redis-only-token-0001", "content-type": "application/json" },
        body: '["echo","served"]',
      });
      expect(await res.json()).toEqual({ result: "served" });
    } finally {
      await bridge.close();
    }
  });
});
