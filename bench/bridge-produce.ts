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
 * 4. gateway process, mirror process — the same two, with the bridge in its own child process
 *              (`bridge-process.ts`, its own Kafka producer) as it is deployed: the clients (Workers
 *              at the edge) never share the bridge's process. The in-process figures stay reported.
 *
 * Each way sends `--messages` records in batches of `--batch` with `--concurrency` batches in
 * flight, to its own fresh topic (6 partitions, keyed records). Best of `--runs` per way, runs
 * interleaved; process CPU per message of each side and the Kafka produce requests are recorded.
 *
 * Run: `npm run bench -- bridge-produce [--quick]` (KAFKA_BROKERS, default 127.0.0.1:9092).
 * Creates topics `bench-bridge-*`; deletes nothing.
 */
import { Kafka } from "@upstash/kafka";
import { Hono } from "hono";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import type { RecordToProduce } from "../bridges/kafka/record.ts";
import { createKafkaRestApp } from "../bridges/kafka-rest/app.ts";
import { createKafkaRestLeanRoutes } from "../bridges/kafka-rest/lean-produce.ts";
import { createKafkaStack, type KafkaStack } from "../bridges/kafka-stack.ts";
import { toKafkaRecord } from "../bridges/mirror/cloud-event-binding.ts";
import { createMirrorLeanRoute, createMirrorRoute, type MirrorRouteOptions } from "../bridges/mirror/mirror-route.ts";
import { TopicMapping } from "../bridges/mirror/topic-mapping.ts";
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
import { type ProfileSummary, profileCpu } from "./lib/cpu-profile.ts";
import { packageVersion } from "./lib/environment.ts";
import { type BenchmarkReport, rateRow } from "./lib/result-file.ts";
import { round } from "./lib/stats.ts";

const FULL = { messages: 100_000, batch: 100, concurrency: 8, runs: 5 };
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

/** The bridge's Kafka clients as the bench configures them (fresh topics of 6 partitions). */
function benchKafkaStack(brokers: string[], clientId: string): KafkaStack {
  return createKafkaStack(
    { brokers, clientId, requestTimeoutMs: 30_000 },
    { autoCreate: true, partitionsFor: () => 6, defaultPartitions: 6, replicationFactor: -1 },
    { idleTimeoutMs: 60_000, maxInstances: 10 },
  );
}

/**
 * The bridge's produce paths over `stack`, served on 127.0.0.1 as the bridge serves them: the
 * Kafka REST gateway at `/kafka` and the mirror (its edge topic gov.bench.citizen renamed to
 * `mirrorTopic`), produce and the mirror on the lean routes, the rest on Hono.
 */
async function serveBenchBridge(
  stack: KafkaStack,
  mirrorTopic: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Hono();
  const gatewayDeps = { ...stack, credentials, limits: { maxBodyBytes: 8 * 1_048_576 } };
  app.route("/kafka", createKafkaRestApp(gatewayDeps));
  const mapping = new TopicMapping({ rename: [{ from: "gov.bench.citizen", to: mirrorTopic }] });
  const mirrorOptions: MirrorRouteOptions = {
    producer: stack.producer,
    secret: mirrorSecret,
    mapping,
    mode: "binary",
    maxBodyBytes: 8 * 1_048_576,
  };
  app.route("/", createMirrorRoute(mirrorOptions));
  return serveLocally(app, [...createKafkaRestLeanRoutes(gatewayDeps, "/kafka"), createMirrorLeanRoute(mirrorOptions)]);
}

/** The same bridge in its own process (`bridge-process.ts`), with its own Kafka clients. */
export const benchBridgeProcess: BenchBridgeFactory = async (parameters) => {
  const { brokers, clientId, mirrorTopic } = parameters as { brokers: string[]; clientId: string; mirrorTopic: string };
  const stack = benchKafkaStack(brokers, clientId);
  const server = await serveBenchBridge(stack, mirrorTopic);
  return {
    url: server.url,
    requestsSent: () => stack.producer.requestsSent,
    async close() {
      await server.close();
      await stack.close();
    },
  };
};

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size = context.quick ? QUICK : FULL;
  const brokers = context.kafkaBrokers.split(",").map((s) => s.trim());
  const stack = benchKafkaStack(brokers, `bench-${stamp}`);
  const topicOf = (way: string) => `bench-bridge-${stamp}-${way}`;
  const server = await serveBenchBridge(stack, topicOf("mirror"));
  // The deployment's shape: the bridge alone in its process, the clients elsewhere.
  const bridgeProcess = await forkBridge(new URL("./bridge-produce.ts", import.meta.url).href, "benchBridgeProcess", {
    brokers,
    clientId: `bench-${stamp}-process`,
    mirrorTopic: topicOf("mirror-process"),
  });
  const gatewayWay = (url: string, topic: string) => {
    const kafka = new Kafka({ url: `${url}/kafka`, ...credentials });
    return async () => {
      await stack.topics.ensure([topic]);
      return measure(size, async (batch) => {
        await kafka.producer().produceMany(
          batch.map((i) => {
            const record = toKafkaRecord(events[i] as CloudEventRecord, topic, "binary");
            return { topic, value: record.value as string, key: record.key, headers: [...(record.headers ?? [])] };
          }),
        );
      });
    };
  };
  const mirrorWay = (url: string, topic: string) => async () => {
    await stack.topics.ensure([topic]);
    return measure(size, (batch) =>
      postMirrorBatch(
        url,
        mirrorSecret,
        batch.map((i) => events[i] as CloudEventRecord),
      ),
    );
  };
  const events = Array.from({ length: size.messages }, (_, i) => citizenEvent(i, `bench-${stamp}-${i}`));
  const inProcess = (name: string) => !name.endsWith("process");

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
    gateway: gatewayWay(server.url, topicOf("gateway")),
    mirror: mirrorWay(server.url, topicOf("mirror")),
    "gateway process": gatewayWay(bridgeProcess.url, topicOf("gateway-process")),
    "mirror process": mirrorWay(bridgeProcess.url, topicOf("mirror-process")),
  };

  // Runs are interleaved (direct, gateway, mirror, direct, ...) so a burst of load from other
  // processes hits every way alike; best of the runs, since the first run also pays for warm-up.
  // Kafka produce requests each way made (the producer sends the records of calls that wait
  // together as one request): fewer, larger requests are what the direct way gets for free.
  const requests: Record<string, { requests: number; messages: number }> = {};
  const requestsSent = async (name: string) =>
    inProcess(name) ? stack.producer.requestsSent : await bridgeProcess.requestsSent();
  const cpu = cpuCounted(ways, bridgeProcess, (name) => !inProcess(name));
  const counted = Object.fromEntries(
    Object.entries(cpu.ways).map(([name, way]) => [
      name,
      async () => {
        const before = await requestsSent(name);
        const figures = await way();
        const entry = requests[name] ?? { requests: 0, messages: 0 };
        entry.requests += (await requestsSent(name)) - before;
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

  // Where the time goes: one more run of each way under the V8 profiler. In-process, client and
  // bridge share this process, so its profile holds both sides (the @upstash/kafka client, fetch,
  // the signing); for the bridge process ways it is the bridge process's profile alone.
  const cpu_profiles: Record<string, ProfileSummary> = {};
  for (const [name, way] of Object.entries(ways)) {
    context.log(`${name}: profiled run, ${size.messages} messages`);
    const work = async () => {
      await way();
    };
    cpu_profiles[name] = inProcess(name) ? await profileCpu(work) : await bridgeProcess.profile(work);
  }
  const cpuPerMessage = cpu.perMessage();
  // What the bridge spends per message beside what the direct client spends on the same message:
  // with a core of its own, the bridge's rate relative to the client's follows from these.
  const directCpu = (cpuPerMessage.direct as { this_process: number } | undefined)?.this_process ?? Number.NaN;
  const bridgeCpu = (name: string) =>
    (cpuPerMessage[name] as { bridge_process: number } | undefined)?.bridge_process ?? Number.NaN;
  const cpuRatio = (name: string) => round(directCpu / bridgeCpu(name), 2);
  const results = {
    ...runs,
    kafka_requests_per_1000_messages: Object.fromEntries(
      Object.entries(requests).map(([name, r]) => [name, round((1000 * r.requests) / r.messages, 1)]),
    ),
    cpu_micros_per_message: cpuPerMessage,
    cpu_profiles,
  };
  const rate = (name: string) => runs[name]?.messages_per_second ?? Number.NaN;
  const [direct, gateway, mirror] = [rate("direct"), rate("gateway"), rate("mirror")];
  const [gatewayProcess, mirrorProcess] = [rate("gateway process"), rate("mirror process")];
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
    ratios: {
      gateway_vs_direct: round(gateway / direct, 2),
      mirror_vs_direct: round(mirror / direct, 2),
      gateway_process_vs_direct: round(gatewayProcess / direct, 2),
      mirror_process_vs_direct: round(mirrorProcess / direct, 2),
      direct_cpu_vs_gateway_process_cpu_per_message: cpuRatio("gateway process"),
      direct_cpu_vs_mirror_process_cpu_per_message: cpuRatio("mirror process"),
    },
    table: [
      rateRow(
        "Kafka REST gateway produce rate (@upstash/kafka produceMany), bridge in its own process as deployed, vs direct Kafka client (msg/s)",
        gatewayProcess,
        { value: direct, label: "direct" },
        { headline: true },
      ),
      rateRow(
        "mirror ingest produce rate (signed POST /v1/mirror), bridge in its own process as deployed, vs direct Kafka client (msg/s)",
        mirrorProcess,
        { value: direct, label: "direct" },
        { headline: true },
      ),
      {
        figure:
          "bridge process CPU per message (gateway; mirror) vs the direct client's process CPU for the same messages (µs)",
        ours: `${bridgeCpu("gateway process")}; ${bridgeCpu("mirror process")}`,
        baseline: `${directCpu} (direct)`,
        ratio: `${cpuRatio("gateway process")}×; ${cpuRatio("mirror process")}× (direct ÷ bridge)`,
      },
      rateRow(
        "Kafka REST gateway produce rate, client and bridge in one process, vs direct Kafka client (msg/s)",
        gateway,
        { value: direct, label: "direct" },
      ),
      rateRow("mirror ingest produce rate, client and bridge in one process, vs direct Kafka client (msg/s)", mirror, {
        value: direct,
        label: "direct",
      }),
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
                { label: "mirror ingest (bridge process)", value: mirrorProcess, role: "ours" },
                { label: "REST gateway (bridge process)", value: gatewayProcess, role: "ours" },
                { label: "mirror ingest (in-process)", value: mirror, role: "ours" },
                { label: "REST gateway (in-process)", value: gateway, role: "ours" },
                { label: "direct producer", value: direct, role: "baseline" },
              ],
            },
          ],
        },
        {
          title: "batch latency of the best run",
          unit: "ms",
          groups: (["mirror process", "gateway process", "mirror", "gateway", "direct"] as const).map((name) => ({
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
      "the 'process' ways: the same bridge in its own child process (bench/bridge-process.ts) with its own Kafka producer, as deployed (the clients, Workers at the edge, never share the bridge's process); the in-process ways run client and bridge in the benchmark's process; direct stays in the benchmark's process",
      "cpu_micros_per_message: process CPU (user + system) per message over all timed runs of a way: the benchmark's process (clients, and for the in-process ways the bridge too) and the bridge process",
      "cpu_profiles: one extra run of each way under the V8 profiler: for direct and the in-process ways the benchmark's process (client and bridge together), for the process ways the bridge process alone; the functions with the most self and inclusive time",
    ],
  };
  await bridgeProcess.close();
  await server.close();
  await stack.close();
  return report;
}

export const bridgeProduceBenchmark: Benchmark = {
  name: "bridge-produce",
  title: "Bridge produce rate: mirror ingest and Kafka REST gateway vs producing directly",
  run,
};
