/**
 * The bridge's Kafka producer holds a bounded backlog, and the bridge creates only the topics it
 * may (the catalogue's, their mirror renames, configured patterns): against the real broker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { createKafkaRestApp } from "./app.ts";

const available = await requireService("kafka", "bridge producer backlog and topic creation");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const allowed = `bounded-${run}.allowed`;

describe.runIf(available)("bounded producer queue and topic creation policy", () => {
  let stack: KafkaStack;

  beforeAll(async () => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `bounded-${run}`, requestTimeoutMs: 15_000 },
      {
        autoCreate: true,
        partitionsFor: () => 1,
        defaultPartitions: 1,
        replicationFactor: -1,
        mayCreate: (topic) => topic === allowed,
      },
      { idleTimeoutMs: 60_000, maxInstances: 1 },
      // Two calls of ~600 kB fit, a third does not.
      { maxQueuedBytes: 1_250_000 },
    );
    await stack.producer.produce([{ topic: allowed, value: "warm-up" }]);
  });
  afterAll(async () => stack?.close());

  it("refuses a call with 503 + retry-after while the queue is full, then accepts again", async () => {
    const big = (n: number) =>
      Array.from({ length: 6 }, (_, i) => ({ topic: allowed, value: `${n}-${i}`.padEnd(100_000, "x") }));
    const first = stack.producer.produce(big(1));
    const second = stack.producer.produce(big(2));
    const refused = await stack.producer.produce(big(3)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EdgebusError);
    expect(refused).toMatchObject({ code: "upstream_unavailable", status: 503, retryable: true, retryAfterSeconds: 1 });
    expect((refused as Error).message).toMatch(/queue is full/);
    expect((await first).length).toBe(6);
    expect((await second).length).toBe(6);
    expect(stack.producer.saturated).toBe(false);
    expect((await stack.producer.produce(big(4))).length).toBe(6);
  }, 30_000);

  it("over HTTP: the call that does not fit is answered 503 with Retry-After", async () => {
    const app = createKafkaRestApp({ ...stack, credentials: { username: "u", password: "bounded-password-0001" } });
    const body = JSON.stringify(
      Array.from({ length: 6 }, (_, i) => ({ topic: allowed, value: `${i}`.padEnd(100_000, "y") })),
    );
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        app.request("/produce", {
          method: "POST",
          body,
          headers: {
            authorization: `Basic ${btoa("u:bounded-password-0001")}`,
            "content-type": "application/json",
          },
        }),
      ),
    );
    const refused = answers.filter((a) => a.status === 503);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 503]);
    expect(refused[0]?.headers.get("retry-after")).toBe("1");
    expect(await refused[0]?.json()).toMatchObject({
      code: "upstream_unavailable",
      error: expect.stringMatching(/queue is full/),
    });
  }, 30_000);

  it("creates an allowed topic and refuses any other missing topic with a 404 naming it", async () => {
    const other = `bounded-${run}.typo`;
    const refused = await stack.producer.produce([{ topic: other, value: "x" }]).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "not_found", status: 404 });
    expect((refused as Error).message).toContain(other);
    expect(Object.keys(await stack.topics.partitionCounts())).not.toContain(other);
  });
});
