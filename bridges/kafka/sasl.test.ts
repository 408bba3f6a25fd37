/**
 * The bridge's Kafka clients over SASL against a real broker: `scripts/kafka.sh` opens a
 * SASL_PLAINTEXT listener next to every plaintext one (first broker: 9192) with a dev-only user.
 */
import { describe, expect, it } from "vitest";
import { canConnect, isCI, serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack } from "../kafka-stack.ts";
import type { KafkaConnection } from "./connection.ts";

const [host = "127.0.0.1", port = "9092"] = (serviceUrls.kafkaBrokers[0] ?? "127.0.0.1:9092").split(":");
const saslBroker = process.env.KAFKA_SASL_BROKERS ?? `${host}:${Number(port) + 100}`;
const [saslHost = host, saslPort = "9192"] = saslBroker.split(":");
const user = { username: "edgebus", password: "edgebus-dev-secret" };

async function saslAvailable(): Promise<boolean> {
  if (!(await requireService("kafka", "Kafka SASL"))) return false;
  if (await canConnect(saslHost, Number(saslPort))) return true;
  const message = `Kafka SASL: no SASL listener on ${saslBroker} — restart Kafka with the current scripts/kafka.sh (reset + start) or set KAFKA_SASL_BROKERS`;
  if (isCI) throw new Error(message);
  console.warn(`SKIPPED ${message}`);
  return false;
}

const available = await saslAvailable();
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

function connection(sasl: KafkaConnection["sasl"]): KafkaConnection {
  return { brokers: [saslBroker], clientId: `sasl-${run}`, requestTimeoutMs: 5000, ...(sasl ? { sasl } : {}) };
}

describe.runIf(available)("Kafka over SASL", () => {
  it.each(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const)(
    "produces and reads back with %s",
    async (mechanism) => {
      const stack = createKafkaStack(
        connection({ mechanism, ...user }),
        { autoCreate: true, partitionsFor: () => 1, defaultPartitions: 1, replicationFactor: -1 },
        { idleTimeoutMs: 60_000, maxInstances: 1 },
      );
      try {
        const topic = `sasl-${run}-${mechanism.toLowerCase()}`;
        const [receipt] = await stack.producer.produce([{ topic, key: "k", value: mechanism }]);
        const records = await stack.reader.read({
          topic,
          partition: 0,
          offset: receipt?.offset ?? 0,
          timeoutMs: 1000,
          maxBytes: 65536,
        });
        expect(records[0]).toMatchObject({ key: "k", value: mechanism });
      } finally {
        await stack.close();
      }
    },
    30_000,
  );

  it("is refused with a wrong password", async () => {
    const stack = createKafkaStack(
      connection({ mechanism: "SCRAM-SHA-512", username: user.username, password: "wrong-password" }),
      { autoCreate: true, partitionsFor: () => 1, defaultPartitions: 1, replicationFactor: -1 },
      { idleTimeoutMs: 60_000, maxInstances: 1 },
    );
    try {
      await expect(stack.producer.produce([{ topic: `sasl-${run}-refused`, value: "x" }])).rejects.toMatchObject({
        code: "upstream_unavailable",
        details: { reason: expect.stringMatching(/SASL authentication failed/) },
      });
    } finally {
      await stack.close().catch(() => undefined);
    }
  }, 60_000);
});
