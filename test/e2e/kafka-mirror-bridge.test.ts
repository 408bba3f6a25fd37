/**
 * kafka-mirror Worker → real bridge mirror route (over HTTP) → real Kafka. The Worker's batch
 * handler is portable (fetch, Web Crypto), so it runs here in Node against the bridge's own
 * `createMirrorRoute`; the test then reads the topic to prove what was acked is in Kafka.
 */
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Consumer } from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QueueMessage } from "#shared/consumers/consumer-message.ts";
import type { DeadLetterMessage } from "#shared/consumers/dead-letter-message.ts";
import { createKafkaStack, type KafkaStack } from "../../bridges/kafka-stack.ts";
import { createMirrorRoute } from "../../bridges/mirror/mirror-route.ts";
import { RedisNonceStore } from "../../bridges/mirror/nonce-store.ts";
import { TopicMapping } from "../../bridges/mirror/topic-mapping.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { handleMirrorBatch } from "../../workers/kafka-mirror/src/index.ts";
import { requireService } from "../support/services.ts";

const available =
  (await requireService("kafka", "kafka-mirror → bridge → Kafka")) &&
  (await requireService("redis", "kafka-mirror → bridge → Kafka"));
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const domain = `mm${run}`;
const topic = `gov.${domain}.citizen`;
const secret = "kafka-mirror-e2e-secret-0123456789";

function event(n: number) {
  return {
    specversion: "1.0",
    id: `evt-${run}-${n}`,
    source: "/gov/auth",
    type: `gov.${domain}.citizen.created`,
    time: "2026-11-22T08:00:00Z",
    datacontenttype: "application/json",
    partitionkey: `c-${n % 2}`,
    eventversion: 1,
    data: { n },
  };
}

function recordingBatch(bodies: unknown[], attempts = 1) {
  const acked: string[] = [];
  const retried = new Map<string, number | undefined>();
  const messages: QueueMessage[] = bodies.map((body, i) => ({
    id: `m${i}`,
    timestamp: new Date(),
    attempts,
    body,
    ack: () => acked.push(`m${i}`),
    retry: (options) => retried.set(`m${i}`, options?.delaySeconds),
  }));
  return { batch: { queue: "kafka-mirror", messages }, acked, retried };
}

async function eventIdsInTopic(expected: number): Promise<string[]> {
  const consumer = new Consumer<Buffer, Buffer | null, Buffer, Buffer>({
    clientId: "kafka-mirror-e2e",
    groupId: `kafka-mirror-e2e-${run}-${Math.random()}`,
    bootstrapBrokers: serviceUrls.kafkaBrokers,
  });
  const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false, maxWaitTime: 200 });
  const ids: string[] = [];
  const deadline = Date.now() + 10_000;
  const timer = setTimeout(() => void stream.close(), 10_000);
  for await (const message of stream) {
    // Header keys are Buffers (compared by identity), so look the key up by content.
    const id = [...message.headers].find(([key]) => key.toString() === "ce_id")?.[1];
    ids.push(id?.toString() ?? "?");
    if (ids.length >= expected || Date.now() > deadline) break;
  }
  clearTimeout(timer);
  await stream.close();
  await consumer.close(true);
  return ids;
}

describe.runIf(available)("kafka-mirror Worker through the real bridge into Kafka", () => {
  let stack: KafkaStack;
  let server: ServerType;
  let url: string;
  let nonces: RedisNonceStore;

  beforeAll(async () => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `kafka-mirror-e2e-${run}`, requestTimeoutMs: 10_000 },
      { autoCreate: true, partitionsFor: () => 2, defaultPartitions: 1, replicationFactor: -1 },
      { idleTimeoutMs: 60_000, maxInstances: 5 },
    );
    nonces = new RedisNonceStore(serviceUrls.redis);
    const app = createMirrorRoute({
      producer: stack.producer,
      secret,
      mode: "binary",
      mapping: new TopicMapping({}),
      nonces,
    });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/mirror`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await nonces?.close();
    await stack?.close();
  });

  const env = (overrides: Record<string, unknown> = {}) => {
    const letters: DeadLetterMessage[] = [];
    return {
      letters,
      env: {
        BRIDGE_MIRROR_URL: url,
        BRIDGE_MIRROR_SECRET: secret,
        MAX_RETRIES: "10",
        DEAD_LETTER_QUEUE: {
          async send(letter: DeadLetterMessage) {
            letters.push(letter);
          },
        },
        ...overrides,
      },
    };
  };

  it("retries everything while the secret is wrong, and nothing reaches Kafka", async () => {
    const { batch, acked, retried } = recordingBatch([event(100)]);
    await handleMirrorBatch(batch, env({ BRIDGE_MIRROR_SECRET: "a-different-secret-entirely" }).env);
    expect(acked).toEqual([]);
    expect([...retried.keys()]).toEqual(["m0"]);
  });

  it("acks the events Kafka acknowledged and dead-letters poison", async () => {
    const events = [event(1), event(2), event(3)];
    const { batch, acked, retried } = recordingBatch([...events, { not: "an event" }]);
    const { env: testEnv, letters } = env();
    await handleMirrorBatch(batch, testEnv);
    expect(acked.sort()).toEqual(["m0", "m1", "m2", "m3"]);
    expect(retried.size).toBe(0);
    expect(letters.map((l) => l.message_id)).toEqual(["m3"]);
    const ids = await eventIdsInTopic(3);
    expect(ids.sort()).toEqual(events.map((e) => e.id).sort());
  }, 30_000);

  it("a Worker retry of a batch is signed with a fresh nonce and accepted; a replay of a sent request is refused", async () => {
    const sent: { headers: Headers; body: string }[] = [];
    const recording = (async (input: string, init: RequestInit) => {
      sent.push({ headers: new Headers(init.headers), body: String(init.body) });
      return fetch(input, init);
    }) as unknown as typeof fetch;
    const body = event(200);
    const first = recordingBatch([body]);
    await handleMirrorBatch(first.batch, env().env, recording);
    const retry = recordingBatch([body], 2);
    await handleMirrorBatch(retry.batch, env().env, recording);
    expect(first.acked).toEqual(["m0"]);
    expect(retry.acked).toEqual(["m0"]);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.headers.get("x-edgebus-nonce")).not.toBe(sent[1]?.headers.get("x-edgebus-nonce"));
    // Someone who captured the first request sends it again, unchanged: refused, nothing written.
    const replay = await fetch(url, { method: "POST", headers: sent[0]?.headers, body: sent[0]?.body });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("conflict");
  }, 30_000);
});
