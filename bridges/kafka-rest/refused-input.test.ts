/**
 * Input Kafka itself refuses is the client's mistake (400), not an outage (503): found by the
 * hostile-input fuzz (test/fuzz/bridge.test.ts), pinned here against the real broker.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { createKafkaRestApp } from "./app.ts";

const available = await requireService("kafka", "kafka-rest gateway (refused input)");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const topic = `edgebus.refused.${run}`;
const auth = `Basic ${Buffer.from("user:refused-input-pass").toString("base64")}`;

describe.runIf(available)("Kafka REST gateway: input the broker refuses", () => {
  let stack: KafkaStack;
  let app: Hono;
  const post = (path: string, body: unknown) =>
    app.request(`/kafka${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { authorization: auth, "content-type": "application/json" },
    });

  beforeAll(() => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `refused-${run}`, requestTimeoutMs: 10_000 },
      { autoCreate: true, partitionsFor: () => 1, defaultPartitions: 1, replicationFactor: -1 },
      { idleTimeoutMs: 60_000, maxInstances: 1 },
    );
    app = new Hono().route(
      "/kafka",
      createKafkaRestApp({ ...stack, credentials: { username: "user", password: "refused-input-pass" } }),
    );
  });
  afterAll(async () => stack?.close());

  it("a record timestamp far from the broker's clock → 400 bad_request, and nothing is written", async () => {
    const refused = await post("/produce", { topic, value: "late", timestamp: Number.MAX_SAFE_INTEGER });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ status: 400, code: "bad_request", error: /timestamp/ });
    const accepted = await post("/produce", { topic, value: "now", timestamp: Date.now() });
    expect(accepted.status).toBe(200);
    const [receipt] = (await accepted.json()) as { offset: number }[];
    // The refused record took no offset: the first accepted record is the topic's first.
    expect(receipt?.offset).toBe(0);
  });

  it.each(["bad topic!", "a\u0000b", "..", "x".repeat(250)])(
    "fetch from the invalid topic name %j → 400",
    async (name) => {
      const response = await post("/fetch", { topic: name, partition: 0, offset: 0 });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ status: 400, code: "bad_request" });
    },
  );
});
