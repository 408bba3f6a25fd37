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
 * Usage: KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/bridge-produce.ts [--messages 20000] [--batch 100]
 *        [--concurrency 8] [--runs 5]
 * Writes bench/results/bridge-produce.json. Creates topics `bench-bridge-*`; deletes nothing.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { Kafka } from "@upstash/kafka";
import { Hono } from "hono";
import { createKafkaStack } from "../bridges/kafka/kafka-stack.ts";
import type { RecordToProduce } from "../bridges/kafka/record.ts";
import { createKafkaRestApp } from "../bridges/kafka-rest/app.ts";
import { toKafkaRecord } from "../bridges/mirror/cloud-event-binding.ts";
import { createMirrorRoute } from "../bridges/mirror/mirror-route.ts";
import { TopicMapping } from "../bridges/mirror/topic-mapping.ts";
import type { CloudEventRecord } from "../shared/src/envelope/cloud-event.ts";
import { MIRROR_PATH, mirrorResponseSchema } from "../shared/src/mirror-protocol.ts";
import { signMirrorRequest } from "../shared/src/mirror-signature.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "20000" },
    batch: { type: "string", default: "100" },
    concurrency: { type: "string", default: "8" },
    runs: { type: "string", default: "5" },
  },
});
const MESSAGES = Number(values.messages);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((s) => s.trim());
const stamp = Date.now().toString(36);
const credentials = { username: "bench", password: "bench-password-0001" };
const mirrorSecret = "bench-mirror-secret-0001";

/** A realistic event: a citizen record of about 600 bytes of JSON. */
function citizenEvent(i: number): CloudEventRecord {
  return {
    specversion: "1.0",
    id: `bench-${stamp}-${i}`,
    source: "/gov/auth",
    type: "gov.bench.citizen.updated",
    time: new Date().toISOString(),
    datacontenttype: "application/json",
    partitionkey: `citizen-${i % 5000}`,
    eventversion: 1 + Math.floor(i / 5000),
    correlationid: `corr-${i}`,
    data: {
      citizenId: `citizen-${i % 5000}`,
      givenName: "Ana Maria",
      familyName: "Popescu-Ionescu",
      birthDate: "1980-05-17",
      address: { street: "Strada Lunga 12", city: "Cluj-Napoca", postalCode: "400000", country: "RO" },
      email: "ana.popescu@example.gov",
      phone: "+40712345678",
      verifications: [{ kind: "identity-document", at: "2026-01-01T10:00:00Z", level: "substantial" }],
      notes: "x".repeat(200),
    },
  };
}

interface Figures {
  messages: number;
  seconds: number;
  messages_per_second: number;
  batch_latency_ms: { p50: number; p99: number };
}

/** Runs `send` over every batch with CONCURRENCY in flight; returns throughput and batch latencies. */
async function measure(send: (batch: number[]) => Promise<void>): Promise<Figures> {
  const batches: number[][] = [];
  for (let start = 0; start < MESSAGES; start += BATCH) {
    batches.push(Array.from({ length: Math.min(BATCH, MESSAGES - start) }, (_, k) => start + k));
  }
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] as number[];
        const t0 = performance.now();
        await send(batch);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 10) / 10;
  return {
    messages: MESSAGES,
    seconds: Math.round(seconds * 1000) / 1000,
    messages_per_second: Math.round(MESSAGES / seconds),
    batch_latency_ms: { p50: pct(0.5), p99: pct(0.99) },
  };
}

function best(runs: Figures[]): Figures & { runs: number[] } {
  const top = runs.reduce((a, b) => (b.messages_per_second > a.messages_per_second ? b : a));
  return { ...top, runs: runs.map((r) => r.messages_per_second) };
}

function packageVersion(name: string): string {
  const path = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

function kafkaVersion(): string {
  if (process.env.EDGEBUS_KAFKA_VERSION) return process.env.EDGEBUS_KAFKA_VERSION;
  const script = readFileSync(fileURLToPath(new URL("../scripts/kafka.sh", import.meta.url)), "utf8");
  return /EDGEBUS_KAFKA_VERSION:-([0-9.]+)/.exec(script)?.[1] ?? "unknown";
}

async function main(): Promise<void> {
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
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kafka = new Kafka({ url: `${url}/kafka`, ...credentials });
  const events = Array.from({ length: MESSAGES }, (_, i) => citizenEvent(i));

  const ways: Record<string, () => Promise<Figures>> = {
    direct: async () => {
      const topic = topicOf("direct");
      await stack.topics.ensure([topic]);
      return measure(async (batch) => {
        const records: RecordToProduce[] = batch.map((i) =>
          toKafkaRecord(events[i] as CloudEventRecord, topic, "binary"),
        );
        await stack.producer.produce(records);
      });
    },
    gateway: async () => {
      const topic = topicOf("gateway");
      await stack.topics.ensure([topic]);
      return measure(async (batch) => {
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
      return measure(async (batch) => {
        const body = JSON.stringify({ events: batch.map((i) => events[i]) });
        const response = await fetch(`${url}${MIRROR_PATH}`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", ...(await signMirrorRequest(mirrorSecret, body)) },
        });
        const { results } = mirrorResponseSchema.parse(await response.json());
        const failed = results.filter((r) => r.status !== "acked");
        if (failed.length > 0) throw new Error(`mirror refused ${failed.length} events: ${JSON.stringify(failed[0])}`);
      });
    },
  };

  // Runs are interleaved (direct, gateway, mirror, direct, ...) so a burst of load from other
  // processes hits every way alike; best of RUNS, since the first run also pays for warm-up.
  const runsOf: Record<string, Figures[]> = Object.fromEntries(Object.keys(ways).map((name) => [name, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const [name, way] of Object.entries(ways)) runsOf[name]?.push(await way());
  }
  const results: Record<string, Figures & { runs: number[] }> = {};
  for (const [name, runs] of Object.entries(runsOf)) {
    results[name] = best(runs);
    console.log(
      `${name.padEnd(8)} ${results[name].messages_per_second} msg/s (runs: ${results[name].runs.join(", ")})`,
    );
  }

  const direct = results.direct?.messages_per_second ?? 1;
  const report = {
    benchmark: "bridge produce throughput: direct Kafka producer vs Kafka REST gateway vs mirror ingest",
    date: new Date().toISOString(),
    machine: {
      platform: `${os.type().toLowerCase()} ${os.release()} ${os.arch()}`,
      cpu: os.cpus()[0]?.model.trim() ?? "unknown",
      cpus: os.cpus().length,
      memory_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    },
    versions: {
      node: process.version,
      kafka: kafkaVersion(),
      kafka_client: `@platformatic/kafka ${packageVersion("@platformatic/kafka")}`,
      rest_client: `@upstash/kafka ${packageVersion("@upstash/kafka")}`,
      hono: packageVersion("hono"),
    },
    setup: {
      brokers: brokers.length,
      messages_per_run: MESSAGES,
      batch: BATCH,
      concurrency: CONCURRENCY,
      runs: RUNS,
      partitions: 6,
      record: "binary-mode CloudEvent, ~600 B JSON value, 8 ce_ headers, keyed by partitionkey",
      acks: "all (idempotent producer)",
      note: "everything on one machine: broker, bridge and clients share the same 2 cores; other test suites may run at the same time, so compare ratios within one run, not figures across runs",
    },
    results,
    ratios: {
      gateway_vs_direct: Math.round(((results.gateway?.messages_per_second ?? 0) / direct) * 100) / 100,
      mirror_vs_direct: Math.round(((results.mirror?.messages_per_second ?? 0) / direct) * 100) / 100,
    },
  };
  const out = fileURLToPath(new URL("./results/bridge-produce.json", import.meta.url));
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${out}`);

  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  });
  await stack.close();
}

await main();
