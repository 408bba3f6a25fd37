/**
 * Bridge produce throughput: what the HTTP layers of the bridge cost compared with producing to
 * Kafka directly, three ways in one run against the same broker, same record size and batching:
 *
 * 1. direct  — the bridge's own Kafka producer (`RecordProducer`: @platformatic/kafka,
 *              acks=all, idempotent) called in-process: the ceiling.
 * 2. gateway — the unmodified `@upstash/kafka` client `produceMany` over HTTP to the Kafka REST
 *              gateway (`/kafka`), which then uses the same producer.
 * 3. mirror  — signed `POST /v1/mirror` batches of CloudEvents (what the kafka-mirror Worker
 *              sends), binary-mode Kafka binding, per-event results.
 *
 * Each way sends `--messages` records in batches of `--batch` with `--concurrency` batches in
 * flight, to its own fresh topic (6 partitions, keyed records). Best of `--runs` per way, runs interleaved.
 *
 * Run: `npm run bench -- bridge-produce [--quick]` (KAFKA_BROKERS, default 127.0.0.1:9092).
 * Creates topics `bench-bridge-*`; deletes nothing.
 */
import { Kafka } from "@upstash/kafka";
import { Hono } from "hono";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import type { RecordToProduce } from "../bridges/kafka/record.ts";
import { createKafkaRestApp } from "../bridges/kafka-rest/app.ts";
import { createKafkaStack } from "../bridges/kafka-stack.ts";
import { toKafkaRecord } from "../bridges/mirror/cloud-event-binding.ts";
import { createMirrorRoute } from "../bridges/mirror/mirror-route.ts";
import { TopicMapping } from "../bridges/mirror/topic-mapping.ts";
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
import { type ProfileSummary, profileCpu } from "./lib/cpu-profile.ts";
import { packageVersion } from "./lib/environment.ts";
import { type BenchmarkReport, rateRow } from "./lib/result-file.ts";
import { round } from "./lib/stats.ts";

const FULL = { messages: 20_000, batch: 100, concurrency: 8, runs: 5 };
const QUICK = { messages: 2000, batch: 100, concurrency: 8, runs: 1 };
type Size = typeof FULL;
const stamp = Date.now().toString(36);
const credentials = { username: "bench", password: "bench-password-0001" };
const mirrorSecret = "bench-mirror-secret-0001";

/** Runs `send` over every batch of record indexes with `size.concurrency` in flight. */
function measure(size: Size, send: (batch: number[]) => Promise<void>): Promise<BatchFigures> {
  const indexes = Array.from({ length: size.messages }, (_, i) => i);
  return measureBatches(inBatches(indexes, size.batch), size.concurrency, send);
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size = context.quick ? QUICK : FULL;
  const brokers = context.kafkaBrokers.split(",").map((s) => s.trim());
  const stack = createKafkaStack(
    { brokers, clientId: `bench-${stamp}`, requestTimeoutMs: 30_000 },
    { autoCreate: true, partitionsFor: () => 6, defaultPartitions: 6, replicationFactor: -1 },
    { idleTimeoutMs: 60_000, maxInstances: 10 },
  );
  const topicOf = (way: string) => `bench-bridge-${stamp}-${way}`;
  const app = new Hono();
  app.route("/kafka", createKafkaRestApp({ ...stack, credentials, limits: { maxBodyBytes: 8 * 1_048_576 } }));
  // The events' edge topic is gov.bench.citizen; the mirror renames it to this run's topic.
  const mirrorTopic = topicOf("mirror");
  const mapping = new TopicMapping({ rename: [{ from: "gov.bench.citizen", to: mirrorTopic }] });
  app.route(
    "/",
    createMirrorRoute({
      producer: stack.producer,
      secret: mirrorSecret,
      mapping,
      mode: "binary",
      maxBodyBytes: 8 * 1_048_576,
    }),
  );
  const server = await serveLocally(app);
  const url = server.url;
  const kafka = new Kafka({ url: `${url}/kafka`, ...credentials });
  const events = Array.from({ length: size.messages }, (_, i) => citizenEvent(i, `bench-${stamp}-${i}`));

  const ways: Record<string, () => Promise<BatchFigures>> = {
    direct: async () => {
      const topic = topicOf("direct");
      await stack.topics.ensure([topic]);
      return measure(size, async (batch) => {
        const records: RecordToProduce[] = batch.map((i) =>
          toKafkaRecord(events[i] as CloudEventRecord, topic, "binary"),
        );
        await stack.producer.produce(records);
      });
    },
    gateway: async () => {
      const topic = topicOf("gateway");
      await stack.topics.ensure([topic]);
      return measure(size, async (batch) => {
        await kafka.producer().produceMany(
          batch.map((i) => {
            const record = toKafkaRecord(events[i] as CloudEventRecord, topic, "binary");
            return { topic, value: record.value as string, key: record.key, headers: [...(record.headers ?? [])] };
          }),
        );
      });
    },
    mirror: async () => {
      await stack.topics.ensure([mirrorTopic]);
      return measure(size, (batch) =>
        postMirrorBatch(
          url,
          mirrorSecret,
          batch.map((i) => events[i] as CloudEventRecord),
        ),
      );
    },
  };

  // Runs are interleaved (direct, gateway, mirror, direct, ...) so a burst of load from other
  // processes hits every way alike; best of the runs, since the first run also pays for warm-up.
  // Kafka produce requests each way made (the producer sends the records of calls that wait
  // together as one request): fewer, larger requests are what the direct way gets for free.
  const requests: Record<string, { requests: number; messages: number }> = {};
  const counted = Object.fromEntries(
    Object.entries(ways).map(([name, way]) => [
      name,
      async () => {
        const before = stack.producer.requestsSent;
        const figures = await way();
        const entry = requests[name] ?? { requests: 0, messages: 0 };
        entry.requests += stack.producer.requestsSent - before;
        entry.messages += figures.messages;
        requests[name] = entry;
        return figures;
      },
    ]),
  );
  const runs = await bestOfInterleaved(counted, {
    runs: size.runs,
    messages: size.messages,
    unit: "messages",
    pad: 8,
    log: (line) => context.log(line),
  });

  // Where the time goes: one more run of each way under the V8 profiler. Client and bridge share
  // this process, so a profile holds both sides (the @upstash/kafka client, fetch, the signing).
  const cpu_profiles: Record<string, ProfileSummary> = {};
  for (const [name, way] of Object.entries(ways)) {
    context.log(`${name}: profiled run, ${size.messages} messages`);
    cpu_profiles[name] = await profileCpu(async () => {
      await way();
    });
  }
  const results = {
    ...runs,
    kafka_requests_per_1000_messages: Object.fromEntries(
      Object.entries(requests).map(([name, r]) => [name, round((1000 * r.requests) / r.messages, 1)]),
    ),
    cpu_profiles,
  };
  const rate = (name: string) => runs[name]?.messages_per_second ?? Number.NaN;
  const [direct, gateway, mirror] = [rate("direct"), rate("gateway"), rate("mirror")];
  const report: BenchmarkReport = {
    parameters: {
      brokers: brokers.length,
      messages_per_run: size.messages,
      batch: size.batch,
      concurrency: size.concurrency,
      runs: size.runs,
      partitions: 6,
      record: "binary-mode CloudEvent, ~600 B JSON value, 8 ce_ headers, keyed by partitionkey",
      acks: "all (idempotent producer)",
      kafka_client: `@platformatic/kafka ${packageVersion("@platformatic/kafka")}`,
      rest_client: `@upstash/kafka ${packageVersion("@upstash/kafka")}`,
    },
    results,
    ratios: { gateway_vs_direct: round(gateway / direct, 2), mirror_vs_direct: round(mirror / direct, 2) },
    table: [
      rateRow(
        "Kafka REST gateway produce rate (@upstash/kafka produceMany) vs direct Kafka client (msg/s)",
        gateway,
        { value: direct, label: "direct" },
        { headline: true },
      ),
      rateRow(
        "mirror ingest produce rate (signed POST /v1/mirror) vs direct Kafka client (msg/s)",
        mirror,
        { value: direct, label: "direct" },
        { headline: true },
      ),
    ],
    chart: {
      title: "Bridge produce rate: mirror and Kafka REST gateway vs the same Kafka client directly",
      subtitle: `${size.messages} records of ~600 B in batches of ${size.batch}, ${size.concurrency} in flight, acks=all; best of ${size.runs}`,
      panels: [
        {
          title: "produce rate, best run",
          unit: "messages/s",
          groups: [
            {
              label: "Kafka",
              bars: [
                { label: "mirror ingest", value: mirror, role: "ours" },
                { label: "REST gateway", value: gateway, role: "ours" },
                { label: "direct producer", value: direct, role: "baseline" },
              ],
            },
          ],
        },
        {
          title: "batch latency of the best run",
          unit: "ms",
          groups: (["mirror", "gateway", "direct"] as const).map((name) => ({
            label: name,
            bars: [
              {
                label: "p50",
                value: runs[name]?.batch_latency_ms.p50 ?? Number.NaN,
                role: name === "direct" ? "baseline" : "ours",
              },
              {
                label: "p99",
                value: runs[name]?.batch_latency_ms.p99 ?? Number.NaN,
                role: name === "direct" ? "baseline" : "ours",
              },
            ],
          })),
        },
      ],
    },
    notes: [
      "everything on one machine: broker, bridge and clients share the same 2 cores; other test suites ran at the same time, so compare ratios within one run, not figures across runs",
      "runs are interleaved (direct, gateway, mirror, direct, …) so a burst of load from other processes hits every way alike; best of the runs, since the first also pays for warm-up",
      "kafka_requests_per_1000_messages: produce requests the bridge's producer sent to Kafka per 1,000 messages over all runs of a way (calls that wait together go out as one request)",
      "cpu_profiles: one extra run of each way under the V8 profiler, client and bridge in this one process: the functions with the most self and inclusive time",
    ],
  };
  await server.close();
  await stack.close();
  return report;
}

export const bridgeProduceBenchmark: Benchmark = {
  name: "bridge-produce",
  title: "Bridge produce rate: mirror ingest and Kafka REST gateway vs producing directly",
  run,
};
