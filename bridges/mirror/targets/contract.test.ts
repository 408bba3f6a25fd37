/**
 * The mirror targets' one contract, run against every target on the real brokers through the real
 * ingest (`POST /v1/mirror`, signed), and read back with each broker's own client: a Kafka consumer,
 * an AMQP consumer on a bound quorum queue, a JetStream ordered consumer, `XRANGE`.
 *
 * Each run uses its own names (event domain, exchange queue, stream and subject prefix, stream key
 * prefix), so it never touches what other suites keep on the shared servers, and removes them.
 */

import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect as natsConnect } from "@nats-io/transport-node";
import { Consumer as KafkaConsumer } from "@platformatic/kafka";
import { Redis } from "ioredis";
import { Connection as AmqpConnection } from "rabbitmq-client";
import { afterAll, describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { MIRROR_PATH, type MirrorResult, mirrorResponseSchema } from "#shared/mirror-protocol.ts";
import { signMirrorRequest } from "#shared/mirror-signature.ts";
import { serviceUrls } from "../../../scripts/service-probe.ts";
import { requireService } from "../../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../../kafka-stack.ts";
import { type DecodedCloudEvent, fromKafkaRecord } from "../cloud-event-binding.ts";
import { createMirrorRoute } from "../mirror-route.ts";
import { TopicMapping } from "../topic-mapping.ts";
import { fromAmqpMessage, fromNatsMessage, fromStreamFields } from "./bindings.ts";
import { KafkaTarget } from "./kafka-target.ts";
import type { MirrorTarget } from "./mirror-target.ts";
import { NatsTarget } from "./nats-target.ts";
import { RabbitMqTarget } from "./rabbitmq-target.ts";
import { RedisStreamsTarget } from "./redis-streams-target.ts";

const SECRET = "contract-test-secret-0123456789";
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
/** Largest message the size-limited targets take here; the Kafka broker's default limit is about the same. */
const LIMIT = 1_048_576;

/** A message as a broker's own consumer saw it: where it went, and the event decoded from it. */
interface Read {
  readonly destination: string;
  readonly decoded: DecodedCloudEvent;
}

interface Harness {
  readonly kind: string;
  readonly dedupes: boolean;
  /** The target in `mode`, writing under names unique to `scope`. */
  target(mode: "binary" | "structured", scope: string): Promise<MirrorTarget>;
  /** Everything the broker holds for `scope` once `expected` messages are there (or after a deadline). */
  read(scope: string, expected: number): Promise<Read[]>;
  close(): Promise<void>;
}

const availability = {
  kafka: await requireService("kafka", "mirror target contract (kafka)"),
  redis: await requireService("redis", "mirror target contract (redis)"),
  rabbitmq: await requireService("rabbitmq", "mirror target contract (rabbitmq)"),
  nats: await requireService("nats", "mirror target contract (nats)"),
};

async function until<T>(read: () => Promise<T[]>, expected: number, ms = 15_000): Promise<T[]> {
  const deadline = Date.now() + ms;
  let got = await read();
  while (got.length < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    got = await read();
  }
  // A moment longer, so an unexpected extra copy would show.
  await new Promise((r) => setTimeout(r, 300));
  return read();
}

function kafkaHarness(): Harness {
  let stack: KafkaStack | undefined;
  const targets: MirrorTarget[] = [];
  return {
    kind: "kafka",
    dedupes: false,
    async target(mode) {
      stack ??= createKafkaStack(
        { brokers: serviceUrls.kafkaBrokers, clientId: `contract-${run}`, requestTimeoutMs: 10_000 },
        { autoCreate: true, partitionsFor: () => 3, defaultPartitions: 3, replicationFactor: -1 },
        { idleTimeoutMs: 60_000, maxInstances: 2 },
      );
      const target = new KafkaTarget({ producer: stack.producer, mapping: new TopicMapping(), mode });
      targets.push(target);
      return target;
    },
    async read(scope, expected) {
      const topics = [`gov.${scope}.citizen`, `gov.${scope}.permit`];
      const messages: Read[] = [];
      const consumer = new KafkaConsumer<Buffer, Buffer | null, Buffer, Buffer>({
        clientId: `contract-read-${run}`,
        groupId: `contract-${scope}-${Math.random().toString(36).slice(2)}`,
        bootstrapBrokers: serviceUrls.kafkaBrokers,
      });
      // Topics that got nothing may not exist: read those that do.
      const existing = (await stack?.topics.admin.listTopics()) ?? [];
      const stream = await consumer.consume({
        topics: topics.filter((t) => existing.includes(t)),
        mode: "earliest",
        autocommit: false,
        maxWaitTime: 200,
      });
      const deadline = Date.now() + 15_000;
      let quietUntil = Number.POSITIVE_INFINITY;
      const timer = setInterval(() => {
        if (Date.now() > deadline || Date.now() > quietUntil) void stream.close();
      }, 100);
      for await (const message of stream) {
        messages.push({
          destination: `${message.topic}/${message.key?.toString() ?? ""}`,
          decoded: fromKafkaRecord({
            value: message.value ?? Buffer.alloc(0),
            headers: [...message.headers].map(([k, v]) => ({ key: k.toString(), value: v.toString() })),
          }),
        });
        if (messages.length >= expected) quietUntil = Math.min(quietUntil, Date.now() + 500);
      }
      clearInterval(timer);
      await consumer.close(true);
      return messages;
    },
    async close() {
      await Promise.all(targets.map((t) => t.close()));
      await stack?.close();
    },
  };
}

function rabbitHarness(): Harness {
  const reader = new AmqpConnection(serviceUrls.rabbitmq);
  const targets: MirrorTarget[] = [];
  const queues: string[] = [];
  return {
    kind: "rabbitmq",
    dedupes: false,
    async target(mode, scope) {
      const queue = `edgebus-contract-${scope}`;
      queues.push(queue);
      const target = new RabbitMqTarget({
        url: serviceUrls.rabbitmq,
        exchange: `edgebus-contract-${run}`,
        queues: [{ name: queue, type: "quorum", bindingKeys: [`gov.${scope}.#`] }],
        maxMessageBytes: LIMIT,
        timeoutMs: 5000,
        mapping: new TopicMapping(),
        mode,
      });
      targets.push(target);
      return target;
    },
    async read(scope, expected) {
      const queue = `edgebus-contract-${scope}`;
      const got: Read[] = [];
      const consumer = reader.createConsumer({ queue, queueOptions: { passive: true } }, async (message) => {
        got.push({ destination: message.routingKey, decoded: fromAmqpMessage(message) });
      });
      const all = await until(async () => [...got], expected);
      await consumer.close();
      return all;
    },
    async close() {
      await Promise.all(targets.map((t) => t.close()));
      for (const queue of queues) await reader.queueDelete({ queue }).catch(() => undefined);
      await reader.exchangeDelete({ exchange: `edgebus-contract-${run}` }).catch(() => undefined);
      await reader.close();
    },
  };
}

function natsHarness(): Harness {
  let nc: NatsConnection | undefined;
  const targets: MirrorTarget[] = [];
  const streams: string[] = [];
  return {
    kind: "nats",
    dedupes: true,
    async target(mode, scope) {
      const stream = `EDGEBUS_CONTRACT_${scope}`.toUpperCase();
      streams.push(stream);
      const target = new NatsTarget({
        url: serviceUrls.nats,
        subjectPrefix: `edgebus${scope}.`,
        stream: {
          name: stream,
          subjects: [`edgebus${scope}.>`],
          retention: "limits",
          maxAgeSeconds: 3600,
          replicas: 1,
          duplicateWindowSeconds: 120,
        },
        timeoutMs: 5000,
        mapping: new TopicMapping(),
        mode,
      });
      targets.push(target);
      return target;
    },
    async read(scope, expected) {
      nc ??= await natsConnect({ servers: serviceUrls.nats });
      const js = jetstream(nc);
      const consumer = await js.consumers.get(`EDGEBUS_CONTRACT_${scope}`.toUpperCase());
      const got: Read[] = [];
      const messages = await consumer.fetch({ max_messages: expected + 5, expires: 2000 });
      for await (const m of messages) {
        const headers: [string, string][] = [];
        for (const [name, values] of m.headers ?? []) for (const v of values) headers.push([name, v]);
        got.push({ destination: m.subject, decoded: fromNatsMessage(headers, m.data) });
      }
      return got;
    },
    async close() {
      await Promise.all(targets.map((t) => t.close()));
      if (nc) {
        const jsm = await jetstreamManager(nc);
        for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
        await nc.drain();
      }
    },
  };
}

function redisHarness(): Harness {
  const reader = new Redis(serviceUrls.redis);
  const targets: MirrorTarget[] = [];
  const prefix = `edgebus-contract-${run}:`;
  return {
    kind: "redis-streams",
    dedupes: true,
    async target(mode) {
      const target = new RedisStreamsTarget({
        url: serviceUrls.redis,
        keyPrefix: prefix,
        markerPrefix: `${prefix}seen:`,
        maxLen: 10_000,
        dedupeTtlSeconds: 600,
        maxMessageBytes: LIMIT,
        timeoutMs: 3000,
        mapping: new TopicMapping(),
        mode,
      });
      targets.push(target);
      return target;
    },
    async read(scope, expected) {
      const keys = [`${prefix}gov.${scope}.citizen`, `${prefix}gov.${scope}.permit`];
      return until(async () => {
        const got: Read[] = [];
        for (const key of keys) {
          for (const [, fields] of await reader.xrangeBuffer(key, "-", "+")) {
            got.push({ destination: key, decoded: fromStreamFields(fields) });
          }
        }
        return got;
      }, expected);
    },
    async close() {
      await Promise.all(targets.map((t) => t.close()));
      const keys = await reader.keys(`${prefix}*`);
      if (keys.length > 0) await reader.del(...keys);
      await reader.quit();
    },
  };
}

const harnesses = [
  { available: availability.kafka, make: kafkaHarness },
  { available: availability.rabbitmq, make: rabbitHarness },
  { available: availability.nats, make: natsHarness },
  { available: availability.redis, make: redisHarness },
];

let sequence = 0;
function scopeName(): string {
  sequence += 1;
  return `c${run}${sequence}`;
}

function event(scope: string, overrides: Partial<CloudEventRecord> = {}): CloudEventRecord {
  return {
    specversion: "1.0",
    id: `evt-${Math.random().toString(36).slice(2)}`,
    source: "/gov/auth",
    type: `gov.${scope}.citizen.created`,
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    data: { citizenId: "c-1", name: "Ana Núñez", tags: ["a", "b"], n: 1.5 },
    partitionkey: "c-1",
    eventversion: 1,
    ...overrides,
  };
}

async function mirrorThrough(target: MirrorTarget, events: readonly unknown[]): Promise<MirrorResult[]> {
  const app = createMirrorRoute({ targets: [target], secret: SECRET });
  const body = JSON.stringify({ events });
  const response = await app.request(MIRROR_PATH, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...(await signMirrorRequest(SECRET, body)) },
  });
  expect(response.status).toBe(200);
  return mirrorResponseSchema.parse(await response.json()).results;
}

function decodedEvents(reads: readonly Read[]): CloudEventRecord[] {
  return reads.map((r) => {
    if (!r.decoded.ok) throw new Error(`not decodable: ${r.decoded.reason}`);
    return r.decoded.event;
  });
}

for (const { available, make } of harnesses) {
  const harness = make();
  describe.runIf(available)(`mirror target contract: ${harness.kind}`, () => {
    afterAll(() => harness.close());

    for (const mode of ["binary", "structured"] as const) {
      it(`round-trips attributes and data exactly (${mode})`, async () => {
        const scope = scopeName();
        const events = [
          event(scope, { edgebusdirectcontact: true, subject: "citizen/c-1", dataschema: "https://x.gov/s.json" }),
          event(scope, { datacontenttype: "text/plain", data: 'héllo, "world" 100% ✓', partitionkey: "c-2" }),
          event(scope, {
            datacontenttype: "application/octet-stream",
            data: undefined,
            data_base64: Buffer.from([0, 1, 254, 255]).toString("base64"),
            partitionkey: "c-3",
          }),
          event(scope, { datacontenttype: undefined, data: undefined, partitionkey: "c-4" }),
        ].map((e) => JSON.parse(JSON.stringify(e)) as CloudEventRecord);
        const target = await harness.target(mode, scope);
        const results = await mirrorThrough(target, events);
        expect(results.map((r) => r.status)).toEqual(["acked", "acked", "acked", "acked"]);
        const read = decodedEvents(await harness.read(scope, events.length));
        const byId = new Map(read.map((e) => [e.id, e]));
        expect(read).toHaveLength(events.length);
        for (const original of events) expect(byId.get(original.id)).toEqual(original);
      });
    }

    it("routes by type: routing key / subject / stream per event type", async () => {
      const scope = scopeName();
      const events = [
        event(scope, { type: `gov.${scope}.citizen.created` }),
        event(scope, { type: `gov.${scope}.citizen.updated` }),
        event(scope, { type: `gov.${scope}.permit.submitted`, partitionkey: "p-1" }),
      ];
      const target = await harness.target("binary", scope);
      await mirrorThrough(target, events);
      const reads = await harness.read(scope, events.length);
      const where = new Map(reads.map((r) => [(r.decoded as { event: CloudEventRecord }).event.type, r.destination]));
      const expected: Record<string, (type: string) => string> = {
        kafka: (type) => `${type.split(".").slice(0, -1).join(".")}/${type.includes("permit") ? "p-1" : "c-1"}`,
        rabbitmq: (type) => type,
        nats: (type) => `edgebus${scope}.${type}`,
        "redis-streams": (type) => `edgebus-contract-${run}:${type.split(".").slice(0, -1).join(".")}`,
      };
      for (const e of events) expect(where.get(e.type)).toBe(expected[harness.kind]?.(e.type));
    });

    it("keeps each key's events in order, within a batch and across batches", async () => {
      const scope = scopeName();
      const target = await harness.target("binary", scope);
      const keys = ["k-1", "k-2", "k-3"];
      let total = 0;
      for (let batch = 0; batch < 3; batch++) {
        const events = Array.from({ length: 30 }, (_, i) =>
          event(scope, { partitionkey: keys[i % 3] as string, eventversion: batch * 10 + Math.floor(i / 3) + 1 }),
        );
        total += events.length;
        const results = await mirrorThrough(target, events);
        expect(results.every((r) => r.status === "acked")).toBe(true);
      }
      const read = decodedEvents(await harness.read(scope, total));
      expect(read).toHaveLength(total);
      for (const key of keys) {
        const versions = read.filter((e) => e.partitionkey === key).map((e) => e.eventversion as number);
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
        expect(versions).toHaveLength(30);
      }
    });

    it(
      harness.dedupes
        ? "stores a redelivered batch once"
        : "stores a redelivered batch again with the same ids (consumers deduplicate on source + id)",
      async () => {
        const scope = scopeName();
        const target = await harness.target("binary", scope);
        const events = [event(scope), event(scope, { partitionkey: "c-9" })];
        expect((await mirrorThrough(target, events)).map((r) => r.status)).toEqual(["acked", "acked"]);
        expect((await mirrorThrough(target, events)).map((r) => r.status)).toEqual(["acked", "acked"]);
        const read = decodedEvents(await harness.read(scope, harness.dedupes ? 2 : 4));
        const ids = read.map((e) => e.id).sort();
        const once = events.map((e) => e.id).sort();
        expect(ids).toEqual(harness.dedupes ? once : [...once, ...once].sort());
      },
    );

    it("refuses an oversize event and a non-CloudEvent with clear, non-retryable errors", async () => {
      const scope = scopeName();
      const target = await harness.target("binary", scope);
      const big = event(scope, { datacontenttype: "text/plain", data: "x".repeat(LIMIT + 200_000) });
      // Another topic: Kafka writes one request per topic, and a topic's request fails as a whole.
      const fine = event(scope, { type: `gov.${scope}.permit.submitted`, partitionkey: "p-5" });
      const results = await mirrorThrough(target, [{ specversion: "1.0", id: "nope" }, big, fine]);
      expect(results[0]).toMatchObject({ status: "failed", error: { code: "invalid_envelope", retryable: false } });
      expect(results[1]).toMatchObject({
        status: "failed",
        error: { code: "payload_too_large", retryable: false, message: expect.stringMatching(/too large|over/) },
      });
      expect(results[2]).toMatchObject({ status: "acked" });
    });
  });
}

describe.runIf(availability.nats && availability.rabbitmq)("target-specific names", () => {
  it("NATS refuses a type that is not a valid subject; RabbitMQ a routing key over 255 bytes", async () => {
    const scope = scopeName();
    const nats = natsHarness();
    const rabbit = rabbitHarness();
    try {
      const spaced = await mirrorThrough(await nats.target("binary", scope), [
        event(scope, { type: `gov.${scope}.citizen.not valid` }),
      ]);
      expect(spaced[0]).toMatchObject({
        status: "failed",
        error: { code: "invalid_envelope", message: expect.stringMatching(/whitespace/) },
      });
      const long = await mirrorThrough(await rabbit.target("binary", scope), [
        event(scope, { type: `gov.${scope}.citizen.${"a".repeat(260)}` }),
      ]);
      expect(long[0]).toMatchObject({
        status: "failed",
        error: { code: "invalid_envelope", message: expect.stringMatching(/255 bytes/) },
      });
    } finally {
      await nats.close();
      await rabbit.close();
    }
  });
});
