/**
 * A whole bridge (startBridge) mirroring into RabbitMQ, NATS JetStream and a Redis Streams target
 * whose server is not there, without Kafka: the batch is failed (retryable) because one target did
 * not confirm, `/healthz` names the target that is down, and `/metrics` shows per target whether it
 * is connected, what it confirmed, what failed and the confirm latency.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as natsConnect } from "@nats-io/transport-node";
import { Connection as AmqpConnection } from "rabbitmq-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIRROR_PATH, mirrorResponseSchema } from "#shared/mirror-protocol.ts";
import { signMirrorRequest } from "#shared/mirror-signature.ts";
import { serviceUrls } from "../../../scripts/service-probe.ts";
import { requireService } from "../../../test/support/services.ts";
import { parseBridgeConfig } from "../../config.ts";
import { type RunningBridge, startBridge } from "../../server.ts";

const available =
  (await requireService("rabbitmq", "bridge mirror targets")) &&
  (await requireService("nats", "bridge mirror targets")) &&
  (await requireService("redis", "bridge mirror targets"));
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const secret = "bridge-targets-secret-0123456789";

describe.runIf(available)("a bridge with several mirror targets", () => {
  let bridge: RunningBridge;
  beforeAll(async () => {
    bridge = await startBridge(
      parseBridgeConfig({
        port: 0,
        kafkaRest: { enabled: false },
        redisRest: { enabled: false },
        health: { cacheMs: 0, timeoutMs: 1000 },
        mirror: {
          secret,
          nonceRedisUrl: serviceUrls.redis,
          targets: [
            {
              kind: "rabbitmq",
              url: serviceUrls.rabbitmq,
              exchange: `edgebus-bt-${run}`,
              queues: [{ name: `edgebus-bt-${run}`, type: "classic", bindingKeys: ["gov.#"] }],
            },
            {
              kind: "nats",
              url: serviceUrls.nats,
              subjectPrefix: `edgebusbt${run}.`,
              stream: { name: `EDGEBUS_BT_${run}`.toUpperCase(), subjects: [`edgebusbt${run}.>`], maxAgeSeconds: 600 },
            },
            // Nothing listens on port 1: this target stays down.
            { kind: "redis-streams", name: "streams", url: "redis://127.0.0.1:1", timeoutMs: 500 },
          ],
        },
      }),
    );
  });
  afterAll(async () => {
    await bridge?.close();
    const amqp = new AmqpConnection(serviceUrls.rabbitmq);
    await amqp.queueDelete({ queue: `edgebus-bt-${run}` }).catch(() => undefined);
    await amqp.exchangeDelete({ exchange: `edgebus-bt-${run}` }).catch(() => undefined);
    await amqp.close();
    const nc = await natsConnect({ servers: serviceUrls.nats });
    await (await jetstreamManager(nc)).streams.delete(`EDGEBUS_BT_${run}`.toUpperCase()).catch(() => undefined);
    await nc.drain();
  });

  it("fails a batch one target did not confirm, and shows each target in /healthz and /metrics", async () => {
    const events = [
      {
        specversion: "1.0",
        id: `bt-${run}`,
        source: "/gov/auth",
        type: "gov.auth.citizen.created",
        time: new Date().toISOString(),
        datacontenttype: "application/json",
        data: { citizenId: "c-1" },
        partitionkey: "c-1",
      },
    ];
    const body = JSON.stringify({ events });
    const response = await fetch(`${bridge.url}${MIRROR_PATH}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...(await signMirrorRequest(secret, body)) },
    });
    expect(response.status).toBe(200);
    const [result] = mirrorResponseSchema.parse(await response.json()).results;
    expect(result).toMatchObject({
      status: "failed",
      error: { code: "upstream_unavailable", retryable: true, message: expect.stringMatching(/streams/) },
    });

    const health = await fetch(`${bridge.url}/healthz`);
    expect(health.status).toBe(503);
    const report = (await health.json()) as { status: string; checks: Record<string, string> };
    expect(report.checks["mirror:rabbitmq"]).toBe("ok");
    expect(report.checks["mirror:nats"]).toBe("ok");
    expect(report.checks["mirror:streams"]).toMatch(/^unavailable/);
    expect(report.checks.kafka).toBeUndefined();

    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    expect(metrics).toContain('edgebus_bridge_mirror_target_up{target="rabbitmq",kind="rabbitmq"} 1');
    expect(metrics).toContain('edgebus_bridge_mirror_target_up{target="nats",kind="nats"} 1');
    expect(metrics).toContain('edgebus_bridge_mirror_target_up{target="streams",kind="redis-streams"} 0');
    expect(metrics).toContain('edgebus_bridge_mirror_target_published_total{target="rabbitmq"} 1');
    expect(metrics).toContain('edgebus_bridge_mirror_target_published_total{target="nats"} 1');
    expect(metrics).toContain(
      'edgebus_bridge_mirror_target_failures_total{target="streams",code="upstream_unavailable"} 1',
    );
    expect(metrics).toMatch(/edgebus_bridge_mirror_target_confirm_seconds_count\{target="nats"\} 1/);
    expect(metrics).toContain('edgebus_bridge_mirror_events_total{status="failed"} 1');
  });
});
