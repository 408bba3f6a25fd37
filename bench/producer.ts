/**
 * Producer throughput and latency: the real producer Worker (`wrangler.toml`, bundled by
 * wrangler), an empty Hono Worker (`bench/workers/empty-hono.ts`) and a minimal producer
 * (`bench/workers/minimal-producer.ts`: the same routing and `sendBatch` calls, nothing else) run
 * side by side in ONE workerd process (wrangler's `createTestHarness`), reached over HTTP on the
 * same socket with the same request bodies; rounds rotate which one goes first. Reported for
 * single events (`POST /v1/events`) and batches of 100 (`POST /v1/events/batch`): events/s,
 * request latency percentiles, and the producer ÷ empty-route and producer ÷ minimal ratios.
 *
 * The producer runs without Redis and Kafka: dedup and rate limit in isolate memory (what
 * `UPSTASH_REDIS_REST_URL` unset means), queues local. A third Worker in the same runtime
 * acks the queue messages so memory stays flat (`bench/workers/queue-sink.ts`).
 *
 * CPU time per event of the producer's own steps (envelope parsing, catalogue validation and
 * routing: `parseSingleEvent`/`parseBatch` → `normaliseEvent` → `routeEvent`, the functions the
 * Worker runs), the whole producer app's CPU per event and its CPU profiles are measured
 * separately in V8 under Node, not in workerd, in a child process with zod's jitless mode, which
 * is how zod runs in workerd (`producer-profile.ts`).
 */
import { fileURLToPath } from "node:url";
import { createTestHarness } from "wrangler";
import { governmentCatalogue } from "../schemas/index.ts";
import { generateApiKey } from "../workers/producer/src/auth/key-hash.ts";
import type { BenchContext, Benchmark } from "./lib/benchmark.ts";
import { runClosedLoop } from "./lib/closed-loop.ts";
import { type HttpTarget, LoadClient } from "./lib/http-client.ts";
import { benchApiKeys, prepareHarnessEnvironment } from "./lib/producer-harness.ts";
import { type BenchmarkReport, rateRow } from "./lib/result-file.ts";
import { type LatencySummary, round, roundSummary, summarise } from "./lib/stats.ts";
import { BATCH_SIZE, EVENT_TYPE, type Mode, measureProducerCpu, requestFor } from "./producer-profile.ts";

const FULL = { rounds: 4, roundSeconds: 8, warmupSeconds: 3, concurrency: 8, cpuEvents: 20_000, profileEvents: 20_000 };
const QUICK = { rounds: 1, roundSeconds: 3, warmupSeconds: 1, concurrency: 8, cpuEvents: 2000, profileEvents: 2000 };
const PRODUCER_HOST = "producer.bench";
const BASELINE_HOST = "empty-hono.bench";
const MINIMAL_HOST = "minimal-producer.bench";

type Target = "producer" | "empty-hono" | "minimal";

const EXAMPLE = governmentCatalogue.require(EVENT_TYPE).example as Record<string, unknown>;

/** Throws unless the producer accepted every event (a 429 or 503 would make the figures meaningless). */
function checkProducerAnswer(mode: Mode, status: number, body: string, events: number): void {
  if (mode === "single") {
    if (status !== 202 || !body.includes('"status":"accepted"'))
      throw new Error(`producer answered ${status}: ${body}`);
    return;
  }
  const parsed = JSON.parse(body) as { accepted?: number };
  if (status !== 200 || parsed.accepted !== events) {
    throw new Error(`producer batch answered ${status}: ${body.slice(0, 300)}`);
  }
}

interface Figures {
  requests: number;
  events: number;
  seconds: number;
  events_per_second: number;
  latency_ms: LatencySummary;
}

function toFigures(rounds: { requests: number; events: number; seconds: number; latenciesMs: number[] }[]): Figures {
  const events = rounds.reduce((sum, r) => sum + r.events, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  return {
    requests: rounds.reduce((sum, r) => sum + r.requests, 0),
    events,
    seconds: round(seconds, 2),
    events_per_second: Math.round(events / seconds),
    latency_ms: roundSummary(summarise(rounds.flatMap((r) => r.latenciesMs))),
  };
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size = context.quick ? QUICK : FULL;
  const apiKey = generateApiKey();
  const apiKeys = await benchApiKeys(apiKey);
  context.log("starting workerd (producer, empty Hono route, queue sink) through wrangler's test harness");
  const root = fileURLToPath(new URL("..", import.meta.url));
  prepareHarnessEnvironment(context.databaseUrl);
  const harness = createTestHarness({
    root,
    workers: [
      { configPath: "wrangler.toml", secrets: { EDGEBUS_API_KEYS: apiKeys } },
      { configPath: "bench/workers/wrangler.empty-hono.toml" },
      { configPath: "bench/workers/wrangler.minimal-producer.toml" },
      { configPath: "bench/workers/wrangler.queue-sink.toml" },
    ],
  });
  const client = new LoadClient();
  try {
    const { url } = await harness.listen();
    const targets: Record<Target, HttpTarget> = {
      producer: { url: url.href, host: PRODUCER_HOST },
      "empty-hono": { url: url.href, host: BASELINE_HOST },
      minimal: { url: url.href, host: MINIMAL_HOST },
    };
    const send = (target: Target, mode: Mode) => async () => {
      const request = requestFor(mode, EXAMPLE);
      const headers: Record<string, string> = { "content-type": request.contentType };
      if (target === "producer") headers.authorization = `Bearer ${apiKey}`;
      const answer = await client.post(targets[target], request.path, request.body, headers);
      if (target === "producer") checkProducerAnswer(mode, answer.status, answer.body, request.events);
      else if (answer.status !== (target === "minimal" && mode === "batch" ? 200 : 202)) {
        throw new Error(`${target} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      }
      return { events: request.events, elapsedMs: answer.elapsedMs };
    };
    const modes: Mode[] = ["single", "batch"];
    const order: Target[] = ["producer", "empty-hono", "minimal"];
    for (const mode of modes) {
      for (const target of order) {
        context.log(`warm-up ${target} ${mode} ${size.warmupSeconds}s`);
        await runClosedLoop({
          concurrency: size.concurrency,
          durationMs: size.warmupSeconds * 1000,
          send: send(target, mode),
        });
      }
    }
    const rounds: Record<Mode, Record<Target, Awaited<ReturnType<typeof runClosedLoop>>[]>> = {
      single: { producer: [], "empty-hono": [], minimal: [] },
      batch: { producer: [], "empty-hono": [], minimal: [] },
    };
    for (let r = 0; r < size.rounds; r++) {
      for (const mode of modes) {
        // Rotate who goes first, so drifting background load does not favour one side.
        for (const target of [...order.slice(r % order.length), ...order.slice(0, r % order.length)]) {
          const result = await runClosedLoop({
            concurrency: size.concurrency,
            durationMs: size.roundSeconds * 1000,
            send: send(target, mode),
          });
          rounds[mode][target].push(result);
          context.log(
            `round ${r + 1}/${size.rounds} ${mode.padEnd(6)} ${target.padEnd(10)} ${Math.round(result.events / result.seconds)} events/s`,
          );
        }
      }
    }
    context.log(
      `CPU per event and CPU profiles in Node with zod jitless (as in workerd), ${size.cpuEvents} events single and in batches`,
    );
    const measured = await measureProducerCpu({
      apiKeys,
      apiKey,
      cpuEvents: size.cpuEvents,
      profileEvents: size.profileEvents,
    });
    const cpu = measured.cpu_per_event_us;
    const results = {
      single: {
        producer: toFigures(rounds.single.producer),
        empty_hono: toFigures(rounds.single["empty-hono"]),
        minimal_producer: toFigures(rounds.single.minimal),
      },
      batch: {
        producer: toFigures(rounds.batch.producer),
        empty_hono: toFigures(rounds.batch["empty-hono"]),
        minimal_producer: toFigures(rounds.batch.minimal),
      },
      cpu_per_event_us: cpu,
      app_cpu_per_event_us: measured.app_cpu_per_event_us,
      cpu_measured_with: "V8 in Node with zod jitless (z.config({ jitless: true })), as zod runs in workerd",
      cpu_profiles: measured.cpu_profiles,
    };
    const ratio = (mode: Mode) => results[mode].producer.events_per_second / results[mode].empty_hono.events_per_second;
    const minimalRatio = (mode: Mode) =>
      results[mode].producer.events_per_second / results[mode].minimal_producer.events_per_second;
    const minimalRow = (mode: Mode) =>
      rateRow(
        `producer throughput vs a minimal producer (same queue sends, nothing else), ${mode === "single" ? "single events" : "batches of 100"} (events/s)`,
        results[mode].producer.events_per_second,
        { value: results[mode].minimal_producer.events_per_second, label: "minimal producer" },
        { headline: true },
      );
    const throughputRow = (mode: Mode, figure: string) =>
      rateRow(
        figure,
        results[mode].producer.events_per_second,
        { value: results[mode].empty_hono.events_per_second, label: "empty Hono" },
        { headline: true },
      );
    const latencyRow = (mode: Mode) => {
      const p = results[mode].producer.latency_ms;
      const b = results[mode].empty_hono.latency_ms;
      return {
        figure: `producer latency, ${mode === "single" ? "single event" : "batch of 100"} (ms, p50 / p95 / p99)`,
        ours: `${p.p50} / ${p.p95} / ${p.p99}`,
        baseline: `${b.p50} / ${b.p95} / ${b.p99} (empty Hono)`,
        ratio: `${round(p.p50 / b.p50, 1)}× at p50`,
      };
    };
    return {
      parameters: {
        runtime: "workerd via wrangler createTestHarness; producer, empty Hono route and queue sink in one process",
        client: "node:http keep-alive, closed loop, same socket pool for both targets",
        concurrency: size.concurrency,
        rounds: size.rounds,
        round_seconds: size.roundSeconds,
        warmup_seconds: size.warmupSeconds,
        batch_size: BATCH_SIZE,
        event: `${EVENT_TYPE}, structured mode, ~${requestFor("single", EXAMPLE).body.length} B`,
        dedup_and_rate_limit: "isolate memory (no Redis); Kafka off; queues local (acked by the sink Worker)",
        cpu_events: size.cpuEvents,
      },
      results,
      ratios: {
        single_events_per_second_vs_empty_hono: round(ratio("single"), 3),
        batch_events_per_second_vs_empty_hono: round(ratio("batch"), 3),
        single_events_per_second_vs_minimal_producer: round(minimalRatio("single"), 3),
        batch_events_per_second_vs_minimal_producer: round(minimalRatio("batch"), 3),
      },
      table: [
        throughputRow("single", "producer throughput, single events (events/s)"),
        throughputRow("batch", "producer throughput, batches of 100 (events/s)"),
        minimalRow("single"),
        minimalRow("batch"),
        latencyRow("single"),
        latencyRow("batch"),
        {
          figure: "CPU per event: parse + validate + route (µs, V8 in Node, zod jitless as in workerd)",
          ours: `${cpu.single_us} single / ${cpu.batch_us} in a batch`,
          baseline: "–",
          ratio: "–",
        },
        {
          figure: "CPU per event: the whole producer app, auth to receipts (µs, V8 in Node, zod jitless)",
          ours: `${measured.app_cpu_per_event_us.single_us} single / ${measured.app_cpu_per_event_us.batch_us} in a batch`,
          baseline: "–",
          ratio: "–",
        },
      ],
      chart: {
        title: "Producer Worker vs an empty Hono route, same workerd process",
        subtitle: `closed loop, ${size.concurrency} requests in flight, ${size.rounds} alternating rounds of ${size.roundSeconds} s; memory dedup/rate limit, no Kafka`,
        panels: [
          {
            title: "throughput",
            unit: "events/s",
            groups: modes.map((mode) => ({
              label: mode === "single" ? "single event" : "batch of 100",
              bars: [
                { label: "producer", value: results[mode].producer.events_per_second, role: "ours" as const },
                { label: "empty Hono", value: results[mode].empty_hono.events_per_second, role: "baseline" as const },
                {
                  label: "minimal producer",
                  value: results[mode].minimal_producer.events_per_second,
                  role: "reference" as const,
                },
              ],
            })),
          },
          ...modes.map((mode) => ({
            title: `request latency, ${mode === "single" ? "single event" : "batch of 100"}`,
            unit: "ms",
            groups: (["p50", "p95", "p99"] as const).map((p) => ({
              label: p,
              bars: [
                { label: "producer", value: results[mode].producer.latency_ms[p], role: "ours" as const },
                { label: "empty Hono", value: results[mode].empty_hono.latency_ms[p], role: "baseline" as const },
              ],
            })),
          })),
          {
            title: "CPU per event: parse + validate + route (V8 under Node, zod jitless)",
            unit: "µs",
            groups: [
              {
                label: "per event",
                bars: [
                  { label: "single", value: cpu.single_us, role: "ours" as const },
                  { label: "in a batch of 100", value: cpu.batch_us, role: "ours" as const },
                ],
              },
            ],
          },
        ],
      },
      notes: [
        "both Workers run in the same workerd process started by wrangler's test harness (local development runtime, not Cloudflare's edge); the client, workerd and everything else share the machine's 2 cores",
        "the producer path measured: auth (SHA-256 of the key), body read, parse, catalogue validation, routing, memory dedup and rate limit, five queue sends; no Redis, no Kafka",
        "the empty route reads the same body and answers 202 with a small JSON body: the ratio is the producer's own cost on top of HTTP, Hono and workerd",
        "the minimal producer (bench/workers/minimal-producer.ts) parses the JSON, routes with the same rules and makes the same sendBatch calls, without auth, validation, dedup or rate limit: the ratio is the cost of what makes the producer safe",
        "CPU per event is measured in V8 under Node with process.cpuUsage over the same shared/src functions the Worker calls, not inside workerd; the measuring process sets zod's jitless mode, because workerd forbids new Function and zod validates there without its JIT fast path",
        "app_cpu_per_event_us: the whole producer app (createProducerApp: auth, body, parse, validation, routing, memory dedup, sends to queue bindings that drop what they get, receipts) per event, same process and settings",
        "cpu_profiles: the producer app driven in that process under the V8 profiler with the same requests: the functions with the most self and inclusive time",
        "other engineers ran test suites on the same 2 cores during the run; ratios within a run are meaningful, absolute figures vary between runs",
      ],
    };
  } finally {
    client.close();
    await harness.close();
  }
}

export const producerBenchmark: Benchmark = {
  name: "producer",
  title: "Producer Worker throughput and latency vs an empty Hono route (workerd)",
  run,
};
