/**
 * The gateway driven by the unmodified `@upstash/kafka` 1.3.5 client over real HTTP against a
 * real Kafka broker (`npm run kafka -- start`). Topics and groups are unique per run.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Kafka } from "@upstash/kafka";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { createKafkaRestApp } from "./app.ts";

const available = await requireService("kafka", "kafka-rest gateway (upstash client)");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const credentials = { username: "edgebus-test", password: "p:a:ss" };

describe.runIf(available)("Kafka REST gateway with @upstash/kafka", () => {
  let stack: KafkaStack;
  let server: ReturnType<typeof serve>;
  let baseUrl: string;
  let kafka: Kafka;

  beforeAll(async () => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `test-${run}`, requestTimeoutMs: 10_000 },
      {
        autoCreate: true,
        partitionsFor: (t) => (t.endsWith("-three") ? 3 : undefined),
        defaultPartitions: 1,
        replicationFactor: -1,
      },
      { idleTimeoutMs: 60_000, maxInstances: 50 },
    );
    const root = new Hono().route("/kafka", createKafkaRestApp({ ...stack, credentials }));
    server = serve({ fetch: root.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kafka`;
    kafka = new Kafka({ url: baseUrl, ...credentials });
  });

  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("produce answers the record's position; fetch returns it at exactly that offset", async () => {
    const topic = `gw-${run}-three`;
    const p = kafka.producer();
    const first = await p.produce(topic, "hello", {
      key: "citizen-1",
      headers: [{ key: "ce_id", value: "evt-1" }],
    });
    expect(first.topic).toBe(topic);
    expect(first.partition).toBeGreaterThanOrEqual(0);
    expect(first.partition).toBeLessThan(3);
    const second = await p.produce(topic, { n: 2 }, { key: "citizen-1" });
    expect(second.partition).toBe(first.partition);
    expect(second.offset).toBe(first.offset + 1);

    const found = await kafka.consumer().fetch({ topic, partition: first.partition, offset: second.offset });
    expect(found[0]).toMatchObject({
      topic,
      partition: first.partition,
      offset: second.offset,
      key: "citizen-1",
      value: '{"n":2}',
    });
    const both = await kafka.consumer().fetch({ topic, partition: first.partition, offset: first.offset });
    expect(both[0]?.headers).toEqual([{ key: "ce_id", value: "evt-1" }]);
    expect(both.map((m) => m.value)).toEqual(["hello", '{"n":2}']);
  });

  it("produceMany answers in request order; fetch with topicPartitionOffsets keeps request order", async () => {
    const topic = `gw-${run}-many-three`;
    const res = await kafka.producer().produceMany([
      { topic, value: "a", partition: 2, timestamp: 1_700_000_000_000 },
      { topic, value: "b", partition: 0 },
      { topic, value: "c", partition: 2 },
    ]);
    expect(res.map((r) => [r.partition, r.offset])).toEqual([
      [2, 0],
      [0, 0],
      [2, 1],
    ]);
    const fetched = await kafka.consumer().fetch(
      {
        topicPartitionOffsets: [
          { topic, partition: 2, offset: 1 },
          { topic, partition: 0, offset: 0 },
        ],
      },
      { parallel: false },
    );
    expect(fetched.map((m) => m.value)).toEqual(["c", "b"]);
    const [a] = await kafka.consumer().fetch({ topic, partition: 2, offset: 0 });
    expect(a).toMatchObject({ value: "a", timestamp: 1_700_000_000_000 });
  });

  it("topics lists partition counts", async () => {
    const topic = `gw-${run}-topics-three`;
    await kafka.producer().produce(topic, "x");
    const topics = await kafka.admin().topics();
    expect(topics[topic]).toBe(3);
  });

  it("offsets: earliest, latest and by timestamp", async () => {
    const topic = `gw-${run}-offsets`;
    await kafka.producer().produceMany([
      { topic, value: "old", timestamp: 1_000 },
      { topic, value: "new", timestamp: 2_000 },
    ]);
    const admin = kafka.admin();
    const tp = { topic, partition: 0 };
    expect(
      await admin.topicPartitionOffsets({ timestamp: "earliest" as unknown as number, topicPartition: tp }),
    ).toEqual([{ ...tp, offset: 0 }]);
    expect(await admin.topicPartitionOffsets({ timestamp: "latest" as unknown as number, topicPartition: tp })).toEqual(
      [{ ...tp, offset: 2 }],
    );
    expect(await admin.topicPartitionOffsets({ timestamp: 1_500, topicPartition: tp })).toEqual([{ ...tp, offset: 1 }]);
    // Nothing at or after the time: the log end, where a reader would start.
    expect(await admin.topicPartitionOffsets({ timestamp: 9_000, topicPartition: tp })).toEqual([{ ...tp, offset: 2 }]);
  });

  it("consume in a group, commit exactly as given, committed, consumers, delete-consumer", async () => {
    const topic = `gw-${run}-group`;
    const group = `g-${run}`;
    await kafka.producer().produceMany([1, 2, 3].map((n) => ({ topic, value: `m${n}` })));
    const consumer = kafka.consumer();
    const admin = kafka.admin();

    const before = await consumer.committed({
      consumerGroupId: group,
      instanceId: "i1",
      topicPartitions: [{ topic, partition: 0 }],
    });
    expect(before).toEqual([{ topic, partition: 0, offset: -1 }]);

    const seen: string[] = [];
    for (let i = 0; i < 30 && seen.length < 3; i++) {
      const messages = await consumer.consume({
        consumerGroupId: group,
        instanceId: "i1",
        topics: [topic],
        autoCommit: false,
        autoOffsetReset: "earliest",
        timeout: 1000,
      });
      seen.push(...messages.map((m) => m.value));
    }
    expect(seen).toEqual(["m1", "m2", "m3"]);

    const groups = await admin.consumers();
    expect(groups.find((g) => g.name === group)?.instances).toEqual([
      { name: "i1", topics: [{ topic, partitions: [0] }] },
    ]);

    // No auto-commit: nothing committed yet.
    expect(
      await consumer.committed({
        consumerGroupId: group,
        instanceId: "i1",
        topicPartitions: [{ topic, partition: 0 }],
      }),
    ).toEqual([{ topic, partition: 0, offset: -1 }]);
    await consumer.commit({ consumerGroupId: group, instanceId: "i1", offset: { topic, partition: 0, offset: 2 } });
    const committed = await admin.committedOffsets({
      consumerGroupId: group,
      instanceId: "i1",
      topicPartition: { topic, partition: 0 },
    });
    expect(committed).toEqual([{ topic, partition: 0, offset: 2 }]);
    expect(typeof committed[0]?.offset).toBe("number");

    // No body: the position after the last consumed message.
    await consumer.commit({ consumerGroupId: group, instanceId: "i1" });
    expect(
      await consumer.committed({
        consumerGroupId: group,
        instanceId: "i1",
        topicPartitions: [{ topic, partition: 0 }],
      }),
    ).toEqual([{ topic, partition: 0, offset: 3 }]);

    await admin.removeConsumerInstance(group, "i1");
    expect((await admin.consumers()).find((g) => g.name === group)).toBeUndefined();

    // A new instance of the group resumes after the committed offset.
    await kafka.producer().produce(topic, "m4");
    const resumed: string[] = [];
    for (let i = 0; i < 30 && resumed.length < 1; i++) {
      const messages = await consumer.consume({
        consumerGroupId: group,
        instanceId: "i2",
        topics: [topic],
        timeout: 1000,
      });
      resumed.push(...messages.map((m) => m.value));
    }
    expect(resumed).toEqual(["m4"]);
    await admin.removeConsumerInstance(group, "i2");
  }, 60_000);
});
