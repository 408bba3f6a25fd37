/**
 * Several Kafka REST logins, each limited to topic and consumer-group patterns, against a real
 * broker: the producer's login cannot read or use the mirror's group, a read-only login cannot
 * produce, every valid password of a login works (rotation), and the answers of `/fetch` and
 * `/consume` are capped in partitions and bytes.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { createKafkaRestApp } from "./app.ts";
import type { KafkaRestCredential } from "./basic-auth.ts";

const available = await requireService("kafka", "kafka-rest credential scopes");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const events = `scoped-${run}.gov.events`;
const audit = `scoped-${run}.audit`;
const mirrorGroup = `scoped-${run}-mirror`;

const logins: KafkaRestCredential[] = [
  {
    username: "producer",
    passwords: ["producer-password-new", "producer-password-old"],
    produce: [`scoped-${run}.gov.*`],
    fetch: [],
    groups: [],
  },
  {
    username: "mirror",
    passwords: ["mirror-password-00001"],
    produce: [],
    fetch: [`scoped-${run}.gov.*`],
    groups: [mirrorGroup],
  },
];

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const producer = basic("producer", "producer-password-new");
const mirror = basic("mirror", "mirror-password-00001");

describe.runIf(available)("Kafka REST logins limited to topics and groups", () => {
  let stack: KafkaStack;
  let app: Hono;
  const call = (auth: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(`/kafka${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: auth, "content-type": "application/json", ...headers },
    });
  const expectRefused = async (response: Response, status: number, text: RegExp) => {
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: string; status: number; code: string };
    expect(body).toMatchObject({ status, error: expect.stringMatching(text) });
    return body;
  };

  beforeAll(async () => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `scoped-${run}`, requestTimeoutMs: 10_000 },
      { autoCreate: true, partitionsFor: () => 2, defaultPartitions: 2, replicationFactor: -1 },
      { idleTimeoutMs: 60_000, maxInstances: 5 },
    );
    app = new Hono().route(
      "/kafka",
      createKafkaRestApp({
        ...stack,
        credentials: logins,
        limits: { maxPartitionsPerRequest: 3, maxResponseBytes: 64 * 1024 },
      }),
    );
    // The audit topic exists, but neither login is given it.
    await stack.topics.ensure([audit]);
  });
  afterAll(async () => stack?.close());

  it("accepts every password of a login (rotation) and nothing else", async () => {
    for (const password of ["producer-password-new", "producer-password-old"]) {
      const answer = await call(basic("producer", password), "POST", "/produce", { topic: events, value: "v" });
      expect(answer.status, await answer.clone().text()).toBe(200);
    }
    await expectRefused(await call(basic("producer", "mirror-password-00001"), "GET", "/topics"), 401, /invalid/);
    await expectRefused(await call(basic("nobody", "producer-password-new"), "GET", "/topics"), 401, /invalid/);
  });

  it("the producer's login produces to its topics only, and cannot read or use the mirror's group", async () => {
    const refused = await expectRefused(
      await call(producer, "POST", "/produce", [
        { topic: events, value: "ok" },
        { topic: audit, value: "not mine" },
      ]),
      403,
      new RegExp(`may not produce to topic ${audit.replace(/\./g, "\\.")}`),
    );
    expect(refused.code).toBe("forbidden");
    await expectRefused(await call(producer, "POST", `/produce/${audit}`, { value: "x" }), 403, /may not produce/);
    await expectRefused(await call(producer, "GET", `/produce/${audit}/x`), 403, /may not produce/);
    await expectRefused(
      await call(producer, "POST", "/fetch", { topic: events, partition: 0, offset: 0 }),
      403,
      /may not read topic/,
    );
    await expectRefused(
      await call(producer, "POST", `/consume/${mirrorGroup}/i1`, { topic: events }),
      403,
      new RegExp(`may not use consumer group ${mirrorGroup}`),
    );
    await expectRefused(
      await call(producer, "POST", `/commit/${mirrorGroup}/i1`, [{ topic: events, partition: 0, offset: 0 }]),
      403,
      /may not use consumer group/,
    );
    await expectRefused(await call(producer, "POST", `/committed/${mirrorGroup}/i1`, []), 403, /consumer group/);
    await expectRefused(await call(producer, "POST", `/delete-consumer/${mirrorGroup}/i1`), 403, /consumer group/);
    await expectRefused(
      await call(producer, "POST", "/offsets/latest", [{ topic: events, partition: 0 }]),
      403,
      /may not read/,
    );
  });

  it("the read-only login reads and consumes in its group, and cannot produce", async () => {
    await expectRefused(await call(mirror, "POST", "/produce", { topic: events, value: "x" }), 403, /may not produce/);
    const fetched = await call(mirror, "POST", "/fetch", { topic: events, partition: 0, offset: 0 });
    expect(fetched.status, await fetched.clone().text()).toBe(200);
    await expectRefused(
      await call(mirror, "POST", "/fetch", { topic: audit, partition: 0, offset: 0 }),
      403,
      /may not read topic/,
    );
    await expectRefused(
      await call(mirror, "POST", `/consume/other-${run}/i1`, { topic: events }),
      403,
      /may not use consumer group/,
    );
    await expectRefused(
      await call(mirror, "POST", `/consume/${mirrorGroup}/i1`, { topic: audit }),
      403,
      /may not read topic/,
    );
    const consumed = await call(
      mirror,
      "POST",
      `/consume/${mirrorGroup}/i1`,
      { topic: events, timeout: 500 },
      {
        "kafka-auto-offset-reset": "earliest",
      },
    );
    expect(consumed.status, await consumed.clone().text()).toBe(200);
    // Each login sees only the topics and groups it may use.
    const topics = (await (await call(mirror, "GET", "/topics")).json()) as Record<string, number>;
    expect(Object.keys(topics)).toContain(events);
    expect(Object.keys(topics)).not.toContain(audit);
    const groups = (await (await call(producer, "GET", "/consumers")).json()) as { name: string }[];
    expect(groups.map((g) => g.name)).not.toContain(mirrorGroup);
    const own = (await (await call(mirror, "GET", "/consumers")).json()) as { name: string }[];
    expect(own.map((g) => g.name)).toContain(mirrorGroup);
    expect((await call(mirror, "POST", `/delete-consumer/${mirrorGroup}/i1`)).status).toBe(200);
  }, 30_000);

  it("caps partitions per fetch and consume, and bytes per answer", async () => {
    const partitions = Array.from({ length: 4 }, (_, i) => ({ topic: events, partition: i % 2, offset: 0 }));
    await expectRefused(
      await call(mirror, "POST", "/fetch", { topicPartitionOffsets: partitions }),
      413,
      /at most 3 partitions/,
    );
    await expectRefused(
      await call(mirror, "POST", `/consume/${mirrorGroup}/i2`, {
        topics: [1, 2, 3, 4].map((n) => `scoped-${run}.gov.t${n}`),
      }),
      413,
      /at most 3 topics/,
    );
    // 10 records of 20 kB on one partition: one answer holds at most 64 kB of them (but at least one).
    const big = `scoped-${run}.gov.big`;
    const produced = await call(
      producer,
      "POST",
      "/produce",
      Array.from({ length: 10 }, (_, i) => ({ topic: big, partition: 0, value: `${i}`.padEnd(20_000, "x") })),
    );
    expect(produced.status, await produced.clone().text()).toBe(200);
    const fetched = (await (
      await call(mirror, "POST", "/fetch", { topic: big, partition: 0, offset: 0, timeout: 2000 })
    ).json()) as { offset: number; value: string }[];
    expect(fetched.length).toBeGreaterThanOrEqual(1);
    expect(fetched.length).toBeLessThanOrEqual(3);
    expect(fetched.map((r) => r.offset)).toEqual(fetched.map((_, i) => i));
    // Consume: each answer within 64 kB, and together every record once, in order.
    const seen: number[] = [];
    for (let attempt = 0; attempt < 30 && seen.length < 10; attempt++) {
      const answer = await call(
        mirror,
        "POST",
        `/consume/${mirrorGroup}/i3`,
        { topic: big, timeout: 1000 },
        {
          "kafka-auto-offset-reset": "earliest",
        },
      );
      const records = (await answer.json()) as { offset: number; value: string }[];
      expect(records.reduce((sum, r) => sum + r.value.length, 0)).toBeLessThanOrEqual(64 * 1024);
      seen.push(...records.map((r) => r.offset));
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await call(mirror, "POST", `/delete-consumer/${mirrorGroup}/i3`);
  }, 60_000);
});
