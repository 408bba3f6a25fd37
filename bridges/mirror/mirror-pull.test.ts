/**
 * Mirror pull against real Kafka: the source is a Kafka REST gateway (Upstash protocol) over the
 * same broker, the sink writes renamed topics; offsets are committed only after the sink acked.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Kafka } from "@upstash/kafka";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaRestApp } from "../kafka-rest/app.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { MirrorPull } from "./mirror-pull.ts";
import { TopicMapping } from "./topic-mapping.ts";

const available = await requireService("kafka", "mirror pull");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const credentials = { username: "edge", password: "edge-password-123" };

describe.runIf(available)("mirror pull", () => {
  let stack: KafkaStack;
  let server: ReturnType<typeof serve>;
  let source: Kafka;
  let url: string;

  beforeAll(async () => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `pull-${run}`, requestTimeoutMs: 10_000 },
      { autoCreate: true, partitionsFor: () => undefined, defaultPartitions: 2, replicationFactor: -1 },
      { idleTimeoutMs: 60_000, maxInstances: 10 },
    );
    server = serve({
      fetch: new Hono().route("/kafka", createKafkaRestApp({ ...stack, credentials })).fetch,
      port: 0,
      hostname: "127.0.0.1",
    });
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kafka`;
    source = new Kafka({ url, ...credentials });
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("forwards key, value, headers and timestamp to the mapped topic, then commits", async () => {
    const topic = `pull-${run}-src`;
    const target = `pull-${run}-dst`;
    await source.producer().produceMany([
      {
        topic,
        value: "one",
        key: "k1",
        headers: [{ key: "ce_id", value: "1" }],
        timestamp: 1_700_000_000_000,
        partition: 0,
      },
      { topic, value: "two", key: "k1", partition: 0 },
      { topic, value: "three", partition: 1 },
    ]);
    const pull = new MirrorPull({
      source: { url, ...credentials, topics: [topic], group: `pull-${run}`, instance: "i1", pollTimeoutMs: 1000 },
      producer: stack.producer,
      mapping: new TopicMapping({ rename: [{ from: `pull-${run}-src`, to: target }] }),
    });
    let forwarded = 0;
    for (let i = 0; i < 30 && forwarded < 3; i++) forwarded += await pull.round();
    expect(forwarded).toBe(3);

    const p0 = await source.consumer().fetch({ topic: target, partition: 0, offset: 0 });
    const p1 = await source.consumer().fetch({ topic: target, partition: 1, offset: 0 });
    const all = [...p0, ...p1];
    expect(all.map((m) => m.value).sort()).toEqual(["one", "three", "two"]);
    const one = all.find((m) => m.value === "one");
    expect(one).toMatchObject({ key: "k1", timestamp: 1_700_000_000_000, headers: [{ key: "ce_id", value: "1" }] });

    const committed = await source.consumer().committed({
      consumerGroupId: `pull-${run}`,
      instanceId: "i1",
      topicPartitions: [
        { topic, partition: 0 },
        { topic, partition: 1 },
      ],
    });
    expect(committed.map((c) => c.offset)).toEqual([2, 1]);
    await pull.stop();
  }, 60_000);

  it("does not commit when the sink refuses, and re-delivers after the failure", async () => {
    const topic = `pull-${run}-retry`;
    await source.producer().produce(topic, "again", { partition: 0 });
    const group = `pull-${run}-retry`;
    const failing = new MirrorPull({
      source: { url, ...credentials, topics: [topic], group, instance: "i1", pollTimeoutMs: 1000 },
      producer: stack.producer,
      // An illegal Kafka topic name: the sink rejects the write.
      mapping: new TopicMapping({ rename: [{ from: topic, to: "not a topic!" }] }),
    });
    let failure: unknown;
    for (let i = 0; i < 30 && failure === undefined; i++) {
      await failing.round().catch((error: unknown) => {
        failure = error;
      });
    }
    expect(String(failure)).toMatch(/invalid topic name/);
    await failing.stop();
    const [committed] = await source
      .consumer()
      .committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: [{ topic, partition: 0 }] });
    expect(committed?.offset).toBe(-1);

    const healthy = new MirrorPull({
      source: { url, ...credentials, topics: [topic], group, instance: "i2", pollTimeoutMs: 1000 },
      producer: stack.producer,
      mapping: new TopicMapping({ rename: [{ from: topic, to: `${topic}-dst` }] }),
    });
    let forwarded = 0;
    for (let i = 0; i < 30 && forwarded < 1; i++) forwarded += await healthy.round();
    expect(forwarded).toBe(1);
    await healthy.stop();
  }, 60_000);
});
