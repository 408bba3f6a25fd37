/** Raw HTTP against the gateway (no client retries): auth, bad input, limits, unknown things. */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { createKafkaRestApp } from "./app.ts";

const available = await requireService("kafka", "kafka-rest gateway (raw HTTP)");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const auth = `Basic ${Buffer.from("user:pass:with:colons").toString("base64")}`;

describe.runIf(available)("Kafka REST gateway over raw HTTP", () => {
  let stack: KafkaStack;
  let app: Hono;
  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    app.request(`/kafka${path}`, {
      method,
      body,
      headers: { authorization: auth, "content-type": "application/json", ...headers },
    });
  const expectError = async (response: Response, status: number, message: RegExp) => {
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: string; status: number };
    expect(body.status).toBe(status);
    expect(body.error).toMatch(message);
  };

  beforeAll(() => {
    // Auto-create off: unknown topics are 404s.
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `raw-${run}`, requestTimeoutMs: 10_000 },
      { autoCreate: false, partitionsFor: () => undefined, defaultPartitions: 1, replicationFactor: -1 },
      { idleTimeoutMs: 60_000, maxInstances: 1 },
    );
    app = new Hono().route(
      "/kafka",
      createKafkaRestApp({
        ...stack,
        credentials: { username: "user", password: "pass:with:colons" },
        limits: { maxBodyBytes: 2048, maxMessagesPerProduce: 3 },
      }),
    );
  });
  afterAll(async () => stack?.close());

  it("401 JSON without or with wrong credentials", async () => {
    await expectError(await call("GET", "/topics", undefined, { authorization: "" }), 401, /missing Basic/);
    const wrong = `Basic ${Buffer.from("user:nope").toString("base64")}`;
    await expectError(
      await call("GET", "/topics", undefined, { authorization: wrong }),
      401,
      /invalid username or password/,
    );
    expect((await call("GET", "/topics")).status).toBe(200);
  });

  it("400 for bad JSON and protocol violations, 413 over the limits", async () => {
    await expectError(await call("POST", "/produce", "{nope"), 400, /not valid JSON/);
    await expectError(await call("POST", "/produce", JSON.stringify({ topic: "t", value: 5 })), 400, /does not match/);
    await expectError(
      await call("POST", "/produce", JSON.stringify({ topic: "bad topic!", value: "x" })),
      400,
      /invalid topic name/,
    );
    await expectError(await call("POST", "/produce", JSON.stringify([])), 400, /no messages/);
    const four = Array.from({ length: 4 }, () => ({ topic: "t", value: "x" }));
    await expectError(await call("POST", "/produce", JSON.stringify(four)), 413, /at most 3/);
    await expectError(
      await call("POST", "/produce", JSON.stringify({ topic: "t", value: "x".repeat(3000) })),
      413,
      /larger than/,
    );
    await expectError(await call("POST", "/fetch", JSON.stringify({ topic: "t" })), 400, /does not match/);
    await expectError(
      await call("POST", "/offsets/yesterday", JSON.stringify([{ topic: "t", partition: 0 }])),
      400,
      /earliest, latest/,
    );
    await expectError(
      await call("POST", "/consume/g/i", JSON.stringify({ topic: "t" }), { "kafka-auto-offset-reset": "sometimes" }),
      400,
      /Kafka-\* consumer header/,
    );
    await expectError(
      await call("POST", "/consume/g%20x/i", JSON.stringify({ topic: "t" })),
      400,
      /consumer group and instance/,
    );
  });

  it("404 for unknown topics (auto-create off), partitions, consumers and routes", async () => {
    const missing = `raw-${run}-missing`;
    await expectError(
      await call("POST", "/produce", JSON.stringify({ topic: missing, value: "x" })),
      404,
      /unknown topic/,
    );
    await expectError(
      await call("POST", "/fetch", JSON.stringify({ topic: missing, partition: 0, offset: 0 })),
      404,
      /unknown topic/,
    );
    await expectError(await call("POST", "/consume/g/i", JSON.stringify({ topic: missing })), 404, /unknown topic/);
    await expectError(await call("POST", `/delete-consumer/g-${run}/nobody`), 404, /no consumer instance/);
    await expectError(await call("POST", `/commit/g-${run}/nobody`), 404, /no consumer instance/);
    await expectError(await call("GET", "/nothing-here"), 404, /no such Kafka REST route/);
  });

  it("400 for an offset past the end of the log", async () => {
    const topic = `raw-${run}-exists`;
    await stack.topics.admin.createTopics({ topics: [topic], partitions: 1, replicas: -1 });
    await stack.topics.awaitReady(topic);
    await expectError(
      await call("POST", "/fetch", JSON.stringify({ topic, partition: 0, offset: 5 })),
      400,
      /out of range/,
    );
    await expectError(
      await call("POST", "/fetch", JSON.stringify({ topic, partition: 3, offset: 0 })),
      404,
      /no partition 3/,
    );
    const produced = await call("GET", `/produce/${topic}/hello?key=k`);
    expect(await produced.json()).toMatchObject({ topic, partition: 0, offset: 0 });
    const many = await call("POST", `/produce/${topic}`, JSON.stringify([{ value: "a" }, { value: "b", key: "k" }]));
    expect(((await many.json()) as { offset: number }[]).map((r) => r.offset)).toEqual([1, 2]);
  });

  it("413 when the broker refuses records as too large", async () => {
    const topic = `raw-${run}-small`;
    await stack.topics.admin.createTopics({
      topics: [topic],
      partitions: 1,
      replicas: -1,
      configs: [{ name: "max.message.bytes", value: "1024" }],
    });
    await stack.topics.awaitReady(topic);
    await expectError(
      await call("POST", "/produce", JSON.stringify({ topic, value: "x".repeat(1500) })),
      413,
      /too large/,
    );
  });

  it("409 when Kafka-Auto-Offset-Reset is none and the group has no committed offset", async () => {
    const topic = `raw-${run}-reset-none`;
    await stack.topics.admin.createTopics({ topics: [topic], partitions: 1, replicas: -1 });
    await stack.topics.awaitReady(topic);
    await expectError(
      await call("POST", `/consume/none-${run}/i1`, JSON.stringify({ topic, timeout: 2000 }), {
        "kafka-auto-offset-reset": "none",
      }),
      409,
      /no committed offset/,
    );
    await call("POST", `/delete-consumer/none-${run}/i1`);
  });

  it("serves the documented GET consume and DELETE delete-consumer forms", async () => {
    const topic = `raw-${run}-get-consume`;
    await stack.topics.admin.createTopics({ topics: [topic], partitions: 1, replicas: -1 });
    await stack.topics.awaitReady(topic);
    await call("GET", `/produce/${topic}/hello`);
    let values: string[] = [];
    for (let i = 0; i < 20 && values.length === 0; i++) {
      const response = await call("GET", `/consume/get-${run}/i1/${topic}?timeout=500`, undefined, {
        "kafka-auto-offset-reset": "earliest",
      });
      expect(response.status).toBe(200);
      values = ((await response.json()) as { value: string }[]).map((m) => m.value);
    }
    expect(values).toEqual(["hello"]);
    await expectError(await call("GET", `/consume/get-${run}/i1/${topic}?timeout=soon`), 400, /milliseconds/);
    expect((await call("DELETE", `/delete-consumer/get-${run}/i1`)).status).toBe(200);
    await expectError(await call("DELETE", `/delete-consumer/get-${run}/i1`), 404, /no consumer instance/);
  });
});
