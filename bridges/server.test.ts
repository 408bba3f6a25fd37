import { describe, expect, it } from "vitest";
import { serviceUrls } from "../scripts/service-probe.ts";
import { requireService } from "../test/support/services.ts";
import { parseBridgeConfig } from "./config.ts";
import { startBridge } from "./server.ts";

const available = await requireService("redis", "bridge server (Redis only)");

describe.runIf(available)("bridge server without Kafka", () => {
  it("serves /redis and a healthy /healthz without creating Kafka clients", async () => {
    const config = parseBridgeConfig(
      {
        port: 0,
        // Nothing listens here: the bridge must not probe or connect to it.
        kafka: { brokers: ["127.0.0.1:1"] },
        kafkaRest: { enabled: false },
        redisRest: { url: serviceUrls.redis, token: "redis-only-token-0001" },
      },
      {},
    );
    const bridge = await startBridge(config);
    try {
      const health = await fetch(`${bridge.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok", checks: { redis: "ok" } });
      expect((await fetch(`${bridge.url}/kafka/topics`)).status).toBe(404);
      expect((await fetch(`${bridge.url}/v1/mirror`, { method: "POST", body: "{}" })).status).toBe(404);
    } finally {
      await bridge.close();
    }
  });
});
