/**
 * Consumer-group behaviour of the gateway through the unmodified `@upstash/kafka` client against
 * real Kafka: auto-commit, partitions shared between instances of one group, idle instances closed.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Kafka } from "@upstash/kafka";
import { Hono } from "hono";
import { afterAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { createKafkaRestApp } from "./app.ts";

const available = await requireService("kafka", "kafka-rest consumer groups");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const credentials = { username: "groups", password: "groups-password-01" };

const cleanups: (() => Promise<void>)[] = [];
async function gateway(idleTimeoutMs: number): Promise<{ kafka: Kafka; stack: KafkaStack }> {
  const stack = createKafkaStack(
    { brokers: serviceUrls.kafkaBrokers, clientId: `groups-${run}`, requestTimeoutMs: 10_000 },
    { autoCreate: true, partitionsFor: () => 2, defaultPartitions: 2, replicationFactor: -1 },
    { idleTimeoutMs, maxInstances: 10 },
  );
  const server = serve({
    fetch: new Hono().route("/kafka", createKafkaRestApp({ ...stack, credentials })).fetch,
    port: 0,
    hostname: "127.0.0.1",
  });
  await new Promise((resolve) => server.once("listening", resolve));
  cleanups.push(async () => {
    await stack.close();
    await new Promise((resolve) => server.close(resolve));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kafka`;
  return { kafka: new Kafka({ url, ...credentials }), stack };
}

describe.runIf(available)("Kafka REST consumer groups", () => {
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it("auto-commit commits the position after the last returned message on its interval", async () => {
    const { kafka } = await gateway(60_000);
    const topic = `groups-${run}-auto`;
    const group = `auto-${run}`;
    await kafka.producer().produceMany([
      { topic, value: "a", partition: 0 },
      { topic, value: "b", partition: 0 },
    ]);
    const consumer = kafka.consumer();
    const seen: string[] = [];
    for (let i = 0; i < 30 && seen.length < 2; i++) {
      const messages = await consumer.consume({
        consumerGroupId: group,
        instanceId: "i1",
        topics: [topic],
        autoCommit: true,
        autoCommitInterval: 300,
        autoOffsetReset: "earliest",
        timeout: 1000,
      });
      seen.push(...messages.map((m) => m.value));
    }
    expect(seen).toEqual(["a", "b"]);
    let offset = -1;
    for (let i = 0; i < 40 && offset !== 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const committed = await consumer.committed({
        consumerGroupId: group,
        instanceId: "i1",
        topicPartitions: [{ topic, partition: 0 }],
      });
      offset = committed[0]?.offset ?? -1;
    }
    expect(offset).toBe(2);
    await kafka.admin().removeConsumerInstance(group, "i1");
  }, 60_000);

  it("two instances of one group share the partitions", async () => {
    const { kafka } = await gateway(60_000);
    const topic = `groups-${run}-shared`;
    const group = `shared-${run}`;
    await kafka.producer().produce(topic, "x");
    const consumer = kafka.consumer();
    const poll = (instanceId: string) =>
      consumer.consume({
        consumerGroupId: group,
        instanceId,
        topics: [topic],
        autoOffsetReset: "earliest",
        timeout: 500,
      });
    let assigned: number[][] = [];
    for (let i = 0; i < 40; i++) {
      await Promise.all([poll("i1"), poll("i2")]);
      const instances = (await kafka.admin().consumers()).find((g) => g.name === group)?.instances ?? [];
      assigned = instances.map((inst) => inst.topics.flatMap((t) => t.partitions)).sort();
      if (assigned.length === 2 && assigned.every((p) => p.length === 1)) break;
    }
    expect(assigned).toEqual([[0], [1]]);
    await kafka.admin().removeConsumerInstance(group, "i1");
    await kafka.admin().removeConsumerInstance(group, "i2");
  }, 90_000);

  it("closes instances that stay idle longer than the timeout", async () => {
    const { kafka } = await gateway(1000);
    const topic = `groups-${run}-idle`;
    const group = `idle-${run}`;
    await kafka.producer().produce(topic, "x");
    await kafka.consumer().consume({ consumerGroupId: group, instanceId: "i1", topics: [topic], timeout: 100 });
    expect((await kafka.admin().consumers()).map((g) => g.name)).toContain(group);
    let listed = true;
    for (let i = 0; i < 50 && listed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      listed = (await kafka.admin().consumers()).some((g) => g.name === group);
    }
    expect(listed).toBe(false);
  }, 30_000);
});
