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
 * The mirror runs twice: in the benchmark's process, and in its own child process
 * (`bridge-process.ts`, its own broker clients) as it is deployed.
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
import { MIRROR_PATH } from "#shared/mirror-protocol.ts";
import type { LeanRoute } from "../bridges/http/lean-routes.ts";
import { createKafkaStack, type KafkaStack } from "../bridges/kafka-stack.ts";
import { toKafkaRecord } from "../bridges/mirror/cloud-event-binding.ts";
import { createMirrorLeanRoute, createMirrorRoute, type MirrorRouteOptions } from "../bridges/mirror/mirror-route.ts";
import { toAmqpMessage, toNatsMessage, toStreamFields } from "../bridges/mirror/targets/bindings.ts";
import { KafkaTarget } from "../bridges/mirror/targets/kafka-target.ts";
import type { MirrorTarget } from "../bridges/mirror/targets/mirror-target.ts";
import { messageId, NatsTarget } from "../bridges/mirror/targets/nats-target.ts";
import { RabbitMqTarget } from "../bridges/mirror/targets/rabbitmq-target.ts";
import { RedisStreamsTarget } from "../bridges/mirror/targets/redis-streams-target.ts";
import { TopicMapping } from "../bridges/mirror/topic-mapping.ts";
import { serviceUrls } from "../scripts/service-probe.ts";
import { type BenchBridgeFactory, cpuCounted, forkBridge } from "./bridge-process.ts";
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

/** The names one run uses at every broker (the bridge process uses the same ones). */
interface RunNames {
  readonly kafkaTopic: string;
  readonly exchange: string;
  readonly queue: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly redisPrefix: string;
}

function runNames(): RunNames {
  return {
    kafkaTopic: `bench-mirror-${stamp}`,
    exchange: `bench-mirror-${stamp}`,
    queue: `bench-mirror-${stamp}`,
    stream: `BENCH_MIRROR_${stamp}`.toUpperCase(),
    subjectPrefix: `benchmirror${stamp}.`,
    redisPrefix: `bench-mirror-${stamp}:`,
  };
}

function benchKafkaStack(brokers: string[], clientId: string): KafkaStack {
  return createKafkaStack(
    { brokers, clientId, requestTimeoutMs: 30_000 },
    { autoCreate: true, partitionsFor: () => 6, defaultPartitions: 6, replicationFactor: -1 },
    { idleTimeoutMs: 60_000, maxInstances: 2 },
  );
}

/** One mirror target per broker, as `mirror.targets` would configure them. */
function mirrorTargets(names: RunNames, stack: KafkaStack, redisUrl: string): Record<string, MirrorTarget> {
  // The events' edge topic gov.bench.citizen is renamed to this run's Kafka topic for the Kafka target.
  const kafkaMapping = new TopicMapping({ rename: [{ from: "gov.bench.citizen", to: names.kafkaTopic }] });
  return {
    kafka: new KafkaTarget({ producer: stack.producer, mapping: kafkaMapping, mode: "binary" }),
    rabbitmq: new RabbitMqTarget({
      url: serviceUrls.rabbitmq,
      exchange: names.exchange,
      queues: [{ name: names.queue, type: "quorum", bindingKeys: ["gov.bench.#"] }],
      maxMessageBytes: 16 * 1_048_576,
      timeoutMs: 30_000,
      mapping: new TopicMapping(),
      mode: "binary",
    }),
    nats: new NatsTarget({
      url: serviceUrls.nats,
      subjectPrefix: names.subjectPrefix,
      stream: {
        name: names.stream,
        subjects: [`${names.subjectPrefix}>`],
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
      url: redisUrl,
      keyPrefix: names.redisPrefix,
      markerPrefix: `${names.redisPrefix}seen:`,
      maxLen: 1_000_000,
      dedupeTtlSeconds: 600,
      maxMessageBytes: 16 * 1_048_576,
      timeoutMs: 30_000,
      mapping: new TopicMapping(),
      mode: "binary",
    }),
  };
}

/** One ingest per target, all on one server (`/<target>/v1/mirror`), served as the bridge serves it. */
function serveMirrors(targets: Record<string, MirrorTarget>): ReturnType<typeof serveLocally> {
  const app = new Hono();
  const leanRoutes: LeanRoute[] = [];
  for (const [name, target] of Object.entries(targets)) {
    const options: MirrorRouteOptions = { targets: [target], secret, maxBodyBytes: 8 * 1_048_576 };
    app.route(`/${name}`, createMirrorRoute(options));
    leanRoutes.push(createMirrorLeanRoute(options, `/${name}${MIRROR_PATH}`));
  }
  return serveLocally(app, leanRoutes);
}

/** The same mirrors in their own process (`bridge-process.ts`), with their own broker clients. */
export const benchMirrorProcess: BenchBridgeFactory = async (parameters) => {
  const { brokers, redisUrl, names } = parameters as { brokers: string[]; redisUrl: string; names: RunNames };
  const stack = benchKafkaStack(brokers, `bench-mirror-${stamp}-process`);
  const targets = mirrorTargets(names, stack, redisUrl);
  const server = await serveMirrors(targets);
  return {
    url: server.url,
    requestsSent: () => stack.producer.requestsSent,
    async close() {
      await server.close();
      await Promise.allSettled(Object.values(targets).map((t) => t.close()));
      await stack.close();
    },
  };
};

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size = context.quick ? QUICK : FULL;
  const load = os.loadavg()[0] ?? 0;
  const brokers = context.kafkaBrokers.split(",").map((s) => s.trim());
  const names = runNames();
  const { kafkaTopic, exchange, queue, stream, subjectPrefix, redisPrefix } = names;
  const stack = benchKafkaStack(brokers, `bench-mirror-${stamp}`);
  await stack.topics.ensure([kafkaTopic]);
  const targets = mirrorTargets(names, stack, context.redisUrl);
  const server = await serveMirrors(targets);
  const url = server.url;
  // A first mirror call creates the stream (and declares the exchange) before the bridge process starts.
  for (const name of Object.keys(targets)) await mirrorBatch(url, name, [benchEvent(-1)]);
  // The deployment's shape: the bridge alone in its process, the clients (the kafka-mirror Worker) elsewhere.
  const bridgeProcess = await forkBridge(new URL("./mirror-targets.ts", import.meta.url).href, "benchMirrorProcess", {
    brokers,
    redisUrl: context.redisUrl,
    names,
  });
  for (const name of Object.keys(targets)) await mirrorBatch(bridgeProcess.url, name, [benchEvent(-2)]);

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
  const mirrorWay =
    (name: string, base = url) =>
    () =>
      measure(size, (batch) => mirrorBatch(base, name, batch));
  const ways: Record<string, () => Promise<BatchFigures>> = {
    "kafka mirror process": mirrorWay("kafka", bridgeProcess.url),
    "kafka mirror": mirrorWay("kafka"),
    "kafka direct": () =>
      measure(size, async (batch) => {
        await stack.producer.produce(batch.map((e) => toKafkaRecord(e, kafkaTopic, "binary")));
      }),
    "rabbitmq mirror process": mirrorWay("rabbitmq", bridgeProcess.url),
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
    "nats mirror process": mirrorWay("nats", bridgeProcess.url),
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
    "redis-streams mirror process": mirrorWay("redis-streams", bridgeProcess.url),
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

  const cpu = cpuCounted(ways, bridgeProcess, (name) => name.endsWith("process"));
  const results = await bestOfInterleaved(cpu.ways, {
    runs: size.runs,
    messages: size.messages,
    unit: "events",
    pad: 28,
    log: (line) => context.log(line),
  });

  await bridgeProcess.close();
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
    results: { ...results, cpu_micros_per_message: cpu.perMessage() },
    ratios: Object.fromEntries(
      kinds.flatMap(([k]) => [
        [`${k}_mirror_vs_direct`, round(rate(`${k} mirror`) / rate(`${k} direct`), 2)],
        [`${k}_mirror_process_vs_direct`, round(rate(`${k} mirror process`) / rate(`${k} direct`), 2)],
      ]),
    ),
    table: kinds.flatMap(([k, label, client]) => [
      rateRow(
        `mirror ingest into ${label} (signed POST /v1/mirror) vs ${client} directly (msg/s)`,
        rate(`${k} mirror`),
        { value: rate(`${k} direct`), label: "direct" },
      ),
      rateRow(
        `mirror ingest into ${label}, bridge in its own process as deployed, vs ${client} directly (msg/s)`,
        rate(`${k} mirror process`),
        { value: rate(`${k} direct`), label: "direct" },
      ),
    ]),
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
              { label: "mirror ingest (bridge process)", value: rate(`${k} mirror process`), role: "ours" as const },
              { label: "mirror ingest (in-process)", value: rate(`${k} mirror`), role: "ours" as const },
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
      "cpu_micros_per_message: process CPU (user + system) per event over all runs of a way: the benchmark's process (the clients, and for the in-process mirror the bridge too) and the bridge process",
      "'mirror process': the same mirrors in their own child process (bench/bridge-process.ts) with their own broker clients, as deployed (the kafka-mirror Worker never shares the bridge's process); 'mirror': the signing client and the bridge in the benchmark's process; 'direct' always in the benchmark's process",
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
