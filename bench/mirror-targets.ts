/**
 * Mirror rate per target: signed `POST /v1/mirror` batches through the bridge's ingest into one
 * target (Kafka, RabbitMQ, NATS JetStream, Redis Streams), against that broker's own client
 * publishing the same messages directly with the same guarantee, in one run:
 *
 * - Kafka: `RecordProducer` (@platformatic/kafka, acks=all, idempotent), the records the mirror writes.
 * - RabbitMQ: a rabbitmq-client publisher in confirm mode, persistent messages to the same durable
 *   topic exchange and quorum queue, the same AMQP messages; a batch is done when all are confirmed.
 * - NATS: `js.publish` of the same headers and body with `Nats-Msg-Id`, a batch done at its PubAcks.
 * - Redis: an ioredis pipeline of `XADD … MAXLEN ~` with the same fields (the mirror runs the
 *   dedupe marker script instead: a `GET`, the `XADD` and a `SET` per event).
 *
 * Each way sends `--messages` events in batches of 100 with 8 batches in flight; best of the runs,
 * runs interleaved. Run: `npm run bench -- mirror-targets [--quick]` (RABBITMQ_URL, NATS_URL,
 * KAFKA_BROKERS, REDIS_URL). Removes the RabbitMQ exchange and queue, the JetStream stream and the
 * Redis streams it made; leaves its Kafka topics (`bench-mirror-*`), like bridge-produce.
 */

import os from "node:os";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { connect as natsConnect } from "@nats-io/transport-node";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { Connection as AmqpConnection } from "rabbitmq-client";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { createKafkaStack } from "../bridges/kafka-stack.ts";
import { toKafkaRecord } from "../bridges/mirror/cloud-event-binding.ts";
import { createMirrorRoute } from "../bridges/mirror/mirror-route.ts";
import { toAmqpMessage, toNatsMessage, toStreamFields } from "../bridges/mirror/targets/bindings.ts";
import { KafkaTarget } from "../bridges/mirror/targets/kafka-target.ts";
import type { MirrorTarget } from "../bridges/mirror/targets/mirror-target.ts";
import { messageId, NatsTarget } from "../bridges/mirror/targets/nats-target.ts";
import { RabbitMqTarget } from "../bridges/mirror/targets/rabbitmq-target.ts";
import { RedisStreamsTarget } from "../bridges/mirror/targets/redis-streams-target.ts";
import { TopicMapping } from "../bridges/mirror/topic-mapping.ts";
import { serviceUrls } from "../scripts/service-probe.ts";
import {
  type BatchFigures,
  bestOfInterleaved,
  citizenEvent,
  inBatches,
  measureBatches,
  postMirrorBatch,
  serveLocally,
} from "./lib/batch-load.ts";
import type { BenchContext, Benchmark } from "./lib/benchmark.ts";
import { packageVersion } from "./lib/environment.ts";
import { type BenchmarkReport, rateRow } from "./lib/result-file.ts";
import { round } from "./lib/stats.ts";

const FULL = { messages: 10_000, batch: 100, concurrency: 8, runs: 3 };
const QUICK = { messages: 1000, batch: 100, concurrency: 8, runs: 1 };
type Size = typeof FULL;
const stamp = Date.now().toString(36);
const secret = "bench-mirror-targets-secret-0001";

/** Sends fresh events each run (their edge topic is gov.bench.citizen) with `concurrency` batches in flight. */
function measure(size: Size, send: (batch: CloudEventRecord[]) => Promise<void>): Promise<BatchFigures> {
  const events = Array.from({ length: size.messages }, (_, i) => benchEvent(i));
  return measureBatches(inBatches(events, size.batch), size.concurrency, send);
}

/** bridge-produce's citizen event, its id unique across runs (each run sends fresh events). */
function benchEvent(i: number): CloudEventRecord {
  return citizenEvent(i, `bench-${stamp}-${i}-${Math.random().toString(36).slice(2, 8)}`);
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size = context.quick ? QUICK : FULL;
  const load = os.loadavg()[0] ?? 0;
  const brokers = context.kafkaBrokers.split(",").map((s) => s.trim());
  const kafkaTopic = `bench-mirror-${stamp}`;
  const exchange = `bench-mirror-${stamp}`;
  const queue = `bench-mirror-${stamp}`;
  const stream = `BENCH_MIRROR_${stamp}`.toUpperCase();
  const subjectPrefix = `benchmirror${stamp}.`;
  const redisPrefix = `bench-mirror-${stamp}:`;
  // The events' edge topic gov.bench.citizen is renamed to this run's Kafka topic for the Kafka target.
  const kafkaMapping = new TopicMapping({ rename: [{ from: "gov.bench.citizen", to: kafkaTopic }] });

  const stack = createKafkaStack(
    { brokers, clientId: `bench-mirror-${stamp}`, requestTimeoutMs: 30_000 },
    { autoCreate: true, partitionsFor: () => 6, defaultPartitions: 6, replicationFactor: -1 },
    { idleTimeoutMs: 60_000, maxInstances: 2 },
  );
  await stack.topics.ensure([kafkaTopic]);
  const targets: Record<string, MirrorTarget> = {
    kafka: new KafkaTarget({ producer: stack.producer, mapping: kafkaMapping, mode: "binary" }),
    rabbitmq: new RabbitMqTarget({
      url: serviceUrls.rabbitmq,
      exchange,
      queues: [{ name: queue, type: "quorum", bindingKeys: ["gov.bench.#"] }],
      maxMessageBytes: 16 * 1_048_576,
      timeoutMs: 30_000,
      mapping: new TopicMapping(),
      mode: "binary",
    }),
    nats: new NatsTarget({
      url: serviceUrls.nats,
      subjectPrefix,
      stream: {
        name: stream,
        subjects: [`${subjectPrefix}>`],
        retention: "limits",
        maxAgeSeconds: 3600,
        replicas: 1,
        duplicateWindowSeconds: 600,
      },
      timeoutMs: 30_000,
      mapping: new TopicMapping(),
      mode: "binary",
    }),
    "redis-streams": new RedisStreamsTarget({
      url: context.redisUrl,
      keyPrefix: redisPrefix,
      markerPrefix: `${redisPrefix}seen:`,
      maxLen: 1_000_000,
      dedupeTtlSeconds: 600,
      maxMessageBytes: 16 * 1_048_576,
      timeoutMs: 30_000,
      mapping: new TopicMapping(),
      mode: "binary",
    }),
  };
  // One ingest per target, all on one server: /<target>/v1/mirror.
  const app = new Hono();
  for (const [name, target] of Object.entries(targets)) {
    app.route(`/${name}`, createMirrorRoute({ targets: [target], secret, maxBodyBytes: 8 * 1_048_576 }));
  }
  const server = await serveLocally(app);
  const url = server.url;

  // The brokers' own clients, publishing directly.
  const amqp = new AmqpConnection(serviceUrls.rabbitmq);
  const publisher = amqp.createPublisher({
    confirm: true,
    exchanges: [{ exchange, type: "topic", durable: true }],
    queues: [{ queue, durable: true, arguments: { "x-queue-type": "quorum" } }],
    queueBindings: [{ queue, exchange, routingKey: "gov.bench.#" }],
  });
  const nc = await natsConnect({ servers: serviceUrls.nats });
  const js = jetstream(nc);
  const redis = new Redis(context.redisUrl);
  // A first mirror call creates the stream (and declares the exchange) before anything is timed.
  for (const name of Object.keys(targets)) await mirrorBatch(url, name, [benchEvent(-1)]);

  const mirrorWay = (name: string) => () => measure(size, (batch) => mirrorBatch(url, name, batch));
  const ways: Record<string, () => Promise<BatchFigures>> = {
    "kafka mirror": mirrorWay("kafka"),
    "kafka direct": () =>
      measure(size, async (batch) => {
        await stack.producer.produce(batch.map((e) => toKafkaRecord(e, kafkaTopic, "binary")));
      }),
    "rabbitmq mirror": mirrorWay("rabbitmq"),
    "rabbitmq direct": () =>
      measure(size, async (batch) => {
        await Promise.all(
          batch.map((e) => {
            const m = toAmqpMessage(e, "binary");
            return publisher.send(
              {
                exchange,
                routingKey: e.type,
                durable: true,
                messageId: e.id,
                headers: m.headers,
                ...(m.contentType ? { contentType: m.contentType } : {}),
              },
              m.body,
            );
          }),
        );
      }),
    "nats mirror": mirrorWay("nats"),
    "nats direct": () =>
      measure(size, async (batch) => {
        await Promise.all(
          batch.map((e) => {
            const m = toNatsMessage(e, "binary");
            const h = natsHeaders();
            for (const [k, v] of m.headers) h.append(k, v);
            return js.publish(`${subjectPrefix}${e.type}`, m.body, { msgID: messageId(e.source, e.id), headers: h });
          }),
        );
      }),
    "redis-streams mirror": mirrorWay("redis-streams"),
    "redis-streams direct": () =>
      measure(size, async (batch) => {
        const pipeline = redis.pipeline();
        for (const e of batch) {
          pipeline.xadd(
            `${redisPrefix}direct:gov.bench.citizen`,
            "MAXLEN",
            "~",
            1_000_000,
            "*",
            ...toStreamFields(e, "binary"),
          );
        }
        const replies = await pipeline.exec();
        const failed = replies?.find(([error]) => error);
        if (failed) throw failed[0];
      }),
  };

  const results = await bestOfInterleaved(ways, {
    runs: size.runs,
    messages: size.messages,
    unit: "events",
    pad: 22,
    log: (line) => context.log(line),
  });

  await server.close();
  await Promise.allSettled(Object.values(targets).map((t) => t.close()));
  await publisher.close();
  await amqp.queueDelete({ queue }).catch(() => undefined);
  await amqp.exchangeDelete({ exchange }).catch(() => undefined);
  await amqp.close();
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
  await nc.drain();
  const keys = await redis.keys(`${redisPrefix}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  await redis.quit();
  await stack.close();

  const rate = (name: string) => results[name]?.messages_per_second ?? Number.NaN;
  const kinds = [
    ["kafka", "Kafka", "@platformatic/kafka producer, acks=all"],
    ["rabbitmq", "RabbitMQ", "rabbitmq-client publisher, confirms"],
    ["nats", "NATS JetStream", "@nats-io/jetstream publish, PubAck"],
    ["redis-streams", "Redis Streams", "ioredis pipelined XADD"],
  ] as const;
  return {
    parameters: {
      messages_per_run: size.messages,
      batch: size.batch,
      concurrency: size.concurrency,
      runs: size.runs,
      event: "binary-mode CloudEvent, ~600 B JSON data, 8 attributes, keyed by partitionkey",
      kafka: `@platformatic/kafka ${packageVersion("@platformatic/kafka")}, 6 partitions, acks=all`,
      rabbitmq: `rabbitmq-client ${packageVersion("rabbitmq-client")}, durable topic exchange → one quorum queue, persistent, publisher confirms`,
      nats: `@nats-io/jetstream ${packageVersion("@nats-io/jetstream")}, file stream, 1 replica, Nats-Msg-Id`,
      redis: `ioredis ${packageVersion("ioredis")}, MAXLEN ~ 1,000,000; the mirror adds a source+id marker per event`,
      load_average_1m_at_start: round(load, 2),
    },
    results,
    ratios: Object.fromEntries(
      kinds.map(([k]) => [`${k}_mirror_vs_direct`, round(rate(`${k} mirror`) / rate(`${k} direct`), 2)]),
    ),
    table: kinds.map(([k, label, client]) =>
      rateRow(
        `mirror ingest into ${label} (signed POST /v1/mirror) vs ${client} directly (msg/s)`,
        rate(`${k} mirror`),
        { value: rate(`${k} direct`), label: "direct" },
      ),
    ),
    chart: {
      title: "Mirror rate per target vs the broker's own client publishing directly",
      subtitle: `${size.messages} events of ~600 B in batches of ${size.batch}, ${size.concurrency} in flight, confirmed; best of ${size.runs}`,
      panels: [
        {
          title: "events per second, best run",
          unit: "messages/s",
          groups: kinds.map(([k, label]) => ({
            label,
            bars: [
              { label: "mirror ingest", value: rate(`${k} mirror`), role: "ours" as const },
              { label: "direct client", value: rate(`${k} direct`), role: "baseline" as const },
            ],
          })),
        },
      ],
    },
    notes: [
      `one machine (2 cores) runs every broker, the bridge and the clients; other helpers' test suites ran at the same time (1-minute load average ${round(load, 2)} at the start), so compare the ratios within this run, not the figures across runs`,
      "the mirror's extra cost per event: the HTTP request and its HMAC check, the nonce claim in Redis, JSON parsing and per-event results; for Redis Streams also the dedupe marker (a Lua script per event instead of a bare XADD)",
      "runs are interleaved (each way once, then again) so a burst of load from other processes hits every way alike; best of the runs",
    ],
  };
}

function mirrorBatch(url: string, target: string, batch: readonly CloudEventRecord[]): Promise<void> {
  return postMirrorBatch(`${url}/${target}`, secret, batch, target);
}

export const mirrorTargetsBenchmark: Benchmark = {
  name: "mirror-targets",
  title: "Mirror rate per target (Kafka, RabbitMQ, NATS JetStream, Redis Streams) vs each broker's own client",
  run,
};
