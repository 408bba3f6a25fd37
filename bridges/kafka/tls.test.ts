/**
 * The bridge's Kafka clients over TLS against a real broker: `scripts/kafka.sh` opens an SSL
 * listener next to every plaintext one (first broker: 9292) with a throwaway CA in
 * `<state>/tls/ca.pem`. The connection is built from bridge config, as `main.ts` does.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canConnect, isCI, serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { parseBridgeConfig } from "../config.ts";
import { createKafkaStack } from "../kafka-stack.ts";
import { kafkaConnectionOf } from "../server.ts";

const [host = "127.0.0.1", port = "9092"] = (serviceUrls.kafkaBrokers[0] ?? "127.0.0.1:9092").split(":");
const tlsBroker = process.env.KAFKA_TLS_BROKERS ?? `${host}:${Number(port) + 200}`;
const [tlsHost = host, tlsPort = "9292"] = tlsBroker.split(":");
const caFile = process.env.KAFKA_TLS_CA ?? join(import.meta.dirname, "../../.cache/kafka/tls/ca.pem");
const credentials = {
  BRIDGE_KAFKA_REST_USERNAME: "edgebus",
  BRIDGE_KAFKA_REST_PASSWORD: "tls-test-password-01",
  BRIDGE_REDIS_REST_TOKEN: "tls-test-token-000001",
};

async function tlsAvailable(): Promise<boolean> {
  if (!(await requireService("kafka", "Kafka TLS"))) return false;
  if ((await canConnect(tlsHost, Number(tlsPort))) && existsSync(caFile)) return true;
  const message = `Kafka TLS: no TLS listener on ${tlsBroker} or no CA at ${caFile} — restart Kafka with the current scripts/kafka.sh or set KAFKA_TLS_BROKERS / KAFKA_TLS_CA`;
  if (isCI) throw new Error(message);
  console.warn(`SKIPPED ${message}`);
  return false;
}

const available = await tlsAvailable();
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

function stackFor(tls: Record<string, unknown>) {
  const config = parseBridgeConfig(
    { kafka: { brokers: [tlsBroker], clientId: `tls-${run}`, requestTimeoutMs: 5000, tls } },
    credentials,
  );
  return createKafkaStack(
    kafkaConnectionOf(config),
    { autoCreate: true, partitionsFor: () => 1, defaultPartitions: 1, replicationFactor: -1 },
    { idleTimeoutMs: 60_000, maxInstances: 1 },
  );
}

describe.runIf(available)("Kafka over TLS", () => {
  it("produces and reads back when the broker's CA is configured", async () => {
    const stack = stackFor({ caFile });
    try {
      const topic = `tls-${run}`;
      const [receipt] = await stack.producer.produce([{ topic, key: "k", value: "over tls" }]);
      const records = await stack.reader.read({
        topic,
        partition: 0,
        offset: receipt?.offset ?? 0,
        timeoutMs: 1000,
        maxBytes: 65536,
      });
      expect(records[0]).toMatchObject({ key: "k", value: "over tls" });
    } finally {
      await stack.close();
    }
  }, 30_000);

  it("refuses a broker whose certificate it cannot verify", async () => {
    const stack = stackFor({});
    try {
      await expect(stack.producer.produce([{ topic: `tls-${run}-untrusted`, value: "x" }])).rejects.toMatchObject({
        code: "upstream_unavailable",
        details: { reason: expect.stringMatching(/self-signed certificate/) },
      });
    } finally {
      await stack.close().catch(() => undefined);
    }
  }, 60_000);

  it("names an unreadable CA file at startup", () => {
    expect(() => stackFor({ caFile: "/nonexistent/ca.pem" })).toThrow(
      /cannot read kafka.tls.caFile \/nonexistent\/ca.pem/,
    );
  });
});
