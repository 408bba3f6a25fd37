/**
 * The publisher contract end to end on the real path: `UpstashKafkaPublisher` → the bridge's
 * Kafka REST gateway (bridges/kafka-rest) → a real Apache Kafka (`npm run kafka -- start`).
 * Read-back goes through the same protocol (`@upstash/kafka` fetch), so what is checked is what
 * a Kafka consumer would see. Topics are unique per run; nothing shared is deleted.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Kafka } from "@upstash/kafka";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaRestApp } from "../../bridges/kafka-rest/app.ts";
import { createKafkaStack, type KafkaStack } from "../../bridges/kafka-stack.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { UpstashKafkaPublisher } from "../../workers/producer/src/brokers/upstash-kafka-publisher.ts";
import { requireService } from "../support/services.ts";
import { contractMessage, runPublisherContract } from "./publisher.contract.ts";

const available = await requireService("kafka", "publisher contract on real Kafka");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const credentials = { username: "contract", password: `pw-${run}` };

let stack: KafkaStack | undefined;
let server: ReturnType<typeof serve> | undefined;
let baseUrl = "";
let requests = 0;

beforeAll(async () => {
  if (!available) return;
  stack = createKafkaStack(
    { brokers: serviceUrls.kafkaBrokers, clientId: `contract-${run}`, requestTimeoutMs: 10_000 },
    // One partition per contract topic, so read-back order is the log order.
    { autoCreate: true, partitionsFor: () => undefined, defaultPartitions: 1, replicationFactor: -1 },
    { idleTimeoutMs: 60_000, maxInstances: 10 },
  );
  const root = new Hono();
  root.use("*", async (_c, next) => {
    requests += 1;
    await next();
  });
  root.route("/kafka", createKafkaRestApp({ ...stack, credentials }));
  server = serve({ fetch: root.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server?.once("listening", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kafka`;
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

/** Every value in the topic's single partition, from offset 0, via REST fetch. */
async function readTopic(topic: string): Promise<string[]> {
  const consumer = new Kafka({ url: baseUrl, ...credentials }).consumer();
  const values: string[] = [];
  let offset = 0;
  for (;;) {
    const batch = await consumer.fetch({ topic, partition: 0, offset, timeout: 1000 });
    if (batch.length === 0) return values;
    for (const message of batch) values.push(message.value);
    offset = (batch.at(-1)?.offset ?? offset) + 1;
  }
}

const newPublisher = () => new UpstashKafkaPublisher({ url: baseUrl, ...credentials });

describe.runIf(available)("real Kafka through the bridge", () => {
  runPublisherContract({
    name: "upstash-kafka → bridge Kafka REST → Apache Kafka",
    newPublisher,
    destinations: [`contract-${run}-a`, `contract-${run}-b`],
    newFailingPublisher: () =>
      new UpstashKafkaPublisher({ url: "http://127.0.0.1:1/kafka", ...credentials, retries: 0 }),
    readBack: async (topic, runId) => (await readTopic(topic)).filter((value) => value.includes(runId)),
    requestCount: () => requests,
    oversizedValueBytes: 1_000_001,
  });

  it("stores key and headers on the Kafka record", async () => {
    const topic = `contract-${run}-headers`;
    const message = contractMessage(run, 1, { key: "citizen-7", headers: { ce_id: "e-1", ce_type: "gov.test.x.y" } });
    const [receipt] = await newPublisher().publish(topic, [message]);
    const fetched = await new Kafka({ url: baseUrl, ...credentials })
      .consumer()
      .fetch({ topic, partition: receipt?.partition ?? 0, offset: receipt?.offset ?? 0 });
    expect(fetched[0]).toMatchObject({
      key: "citizen-7",
      value: message.value,
      headers: [
        { key: "ce_id", value: "e-1" },
        { key: "ce_type", value: "gov.test.x.y" },
      ],
    });
  });

  it("fills requests up to the gateway's body limit without a 413", async () => {
    const topic = `contract-${run}-full`;
    // ~1.4 MB in total: the publisher must split it under the gateway's 1 MiB request limit.
    const messages = Array.from({ length: 140 }, (_, i) =>
      contractMessage(run, i, { value: JSON.stringify({ run, i, blob: "b".repeat(10_000) }) }),
    );
    const receipts = await newPublisher().publish(topic, messages);
    expect(receipts.map((receipt) => receipt.offset)).toEqual(messages.map((_, i) => i));
    expect(await readTopic(topic)).toHaveLength(140);
  });
});
