/**
 * The whole local stack's API against the producer alone, at saturation, in the same run.
 *
 * - **Stack:** `scripts/dev.ts` as `bench/end-to-end.ts` starts it: the producer and every
 *   consumer Worker in one `wrangler dev`, dedup and rate limits in Redis through the bridge's
 *   Redis REST gateway, every event also published to Kafka through the bridge's Kafka REST
 *   gateway, the consumers draining the local queues in the same workerd.
 * - **Producer alone:** the same producer Worker (`wrangler.toml`) through wrangler's test
 *   harness, as `bench/producer.ts` runs it: dedup and rate limits in isolate memory
 *   (`UPSTASH_REDIS_REST_URL` unset), no Kafka, a queue sink acking the five queues.
 *
 * Load: closed loop, the same concurrency for both, single `gov.auth.citizen.created` events
 * (`POST /v1/events`), every one new; rounds alternate which target goes first. After each stack
 * round the bench waits for the stack's queues to go idle, so its consumers' backlog does not run
 * into the next round. Reported: events/s of each, the ratio, request latency, and for the stack
 * the bridge requests per API request by area (Redis REST, Kafka REST) with the bridge's own
 * time per request, from its /metrics, plus CPU seconds per 1,000 events per process group.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestHarness } from "wrangler";
import { governmentCatalogue } from "../schemas/index.ts";
import { generateApiKey } from "../workers/producer/src/auth/key-hash.ts";
import {
  CPU_GROUPS,
  cpuPerThousand,
  type DevStack,
  stackProcessClassifier,
  startStack,
  waitForIdleQueues,
} from "./end-to-end.ts";
import type { BenchContext, Benchmark } from "./lib/benchmark.ts";
import { type ClosedLoopResult, runClosedLoop } from "./lib/closed-loop.ts";
import { type HttpTarget, LoadClient } from "./lib/http-client.ts";
import { CpuMeter, descendantsOf } from "./lib/process-cpu.ts";
import { benchApiKeys, prepareHarnessEnvironment } from "./lib/producer-harness.ts";
import type { BenchmarkReport } from "./lib/result-file.ts";
import { type LatencySummary, round, roundSummary, summarise } from "./lib/stats.ts";

const FULL = { rounds: 4, roundSeconds: 10, warmupSeconds: 3, concurrency: 8, idleWaitSeconds: 60 };
const QUICK = { rounds: 2, roundSeconds: 4, warmupSeconds: 2, concurrency: 8, idleWaitSeconds: 30 };
/** Apart from bench/end-to-end.ts's ports, so a stack left behind by one cannot answer the other. */
const PORTS = { producer: 29787, bridge: 29788, provider: 29790 };
const TARGET_RATIO = 0.7;
const EVENT_TYPE = "gov.auth.citizen.created";
const EXAMPLE = governmentCatalogue.require(EVENT_TYPE).example as Record<string, unknown>;
const root = fileURLToPath(new URL("..", import.meta.url));
const ALONE_WORKERD = "workerd (the producer alone and its queue sink)";

type Target = "stack" | "alone";

let citizenCounter = 50_000_000_000 + Math.floor(Math.random() * 1e9);

function eventBody(): string {
  const id = citizenCounter++;
  return JSON.stringify({
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/bench/identity",
    type: EVENT_TYPE,
    eventversion: 1,
    partitionkey: String(id),
    data: { ...EXAMPLE, id, email: `c${id}@example.org` },
  });
}

/** The bridge's request counters and time spent, by area (`redis`, `kafka`, `mirror`, …). */
interface BridgeCounts {
  requests: Record<string, number>;
  seconds: Record<string, number>;
}

async function bridgeCounts(bridgeUrl: string): Promise<BridgeCounts> {
  const text = await (await fetch(`${bridgeUrl}/metrics`)).text();
  const counts: BridgeCounts = { requests: {}, seconds: {} };
  for (const line of text.split("\n")) {
    const request = /^edgebus_bridge_http_requests_total\{area="(\w+)",status="\w+"\} ([\d.e+]+)$/.exec(line);
    if (request)
      counts.requests[request[1] as string] = (counts.requests[request[1] as string] ?? 0) + Number(request[2]);
    const seconds = /^edgebus_bridge_http_request_duration_seconds_sum\{area="(\w+)"\} ([\d.e+-]+)$/.exec(line);
    if (seconds) counts.seconds[seconds[1] as string] = Number(seconds[2]);
  }
  return counts;
}

interface TargetFigures {
  requests: number;
  events_per_second: number;
  latency_ms: LatencySummary;
}

function figuresOf(rounds: readonly ClosedLoopResult[]): TargetFigures {
  const events = rounds.reduce((sum, r) => sum + r.events, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  return {
    requests: rounds.reduce((sum, r) => sum + r.requests, 0),
    events_per_second: Math.round(events / seconds),
    latency_ms: roundSummary(summarise(rounds.flatMap((r) => r.latenciesMs)), 1),
  };
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size = context.quick ? QUICK : FULL;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "edgebus-bench-stack-"));
  context.log(`starting the dev stack (scripts/dev.ts, ports ${Object.values(PORTS).join("/")})`);
  const stack: DevStack = await startStack(context, dataDir, PORTS);
  if (stack.bridge === undefined) throw new Error("the dev stack started without the bridge (Redis and Kafka)");
  const bridgeUrl = stack.bridge;

  context.log("starting the producer alone (memory stores, no Kafka) through wrangler's test harness");
  const aloneKey = generateApiKey();
  prepareHarnessEnvironment(context.databaseUrl);
  const harness = createTestHarness({
    root,
    workers: [
      {
        configPath: "wrangler.toml",
        secrets: { EDGEBUS_API_KEYS: await benchApiKeys(aloneKey) },
      },
      { configPath: "bench/workers/wrangler.queue-sink.toml" },
    ],
  });
  const client = new LoadClient(size.concurrency * 2);
  const rounds: Record<Target, ClosedLoopResult[]> = { stack: [], alone: [] };
  const bridgeRequests: Record<string, number> = {};
  const bridgeSeconds: Record<string, number> = {};
  const stackCpu: Record<string, number> = {};
  let stackEvents = 0;
  let aloneWorkerdSeconds = 0;
  try {
    const { url } = await harness.listen();
    const targets: Record<Target, { http: HttpTarget; key: string }> = {
      stack: { http: { url: stack.producer }, key: stack.apiKey },
      alone: { http: { url: url.href }, key: aloneKey },
    };
    const send = (target: Target) => async () => {
      const answer = await client.post(targets[target].http, "/v1/events", eventBody(), {
        "content-type": "application/cloudevents+json",
        authorization: `Bearer ${targets[target].key}`,
      });
      if (answer.status !== 202 || !answer.body.includes('"status":"accepted"'))
        throw new Error(`${target} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      return { events: 1, elapsedMs: answer.elapsedMs };
    };
    for (const target of ["stack", "alone"] as const) {
      context.log(`warm-up ${target} ${size.warmupSeconds} s`);
      await runClosedLoop({ concurrency: size.concurrency, durationMs: size.warmupSeconds * 1000, send: send(target) });
    }
    await waitForIdleQueues(stack, size.idleWaitSeconds * 1000);
    for (let r = 0; r < size.rounds; r++) {
      const order: Target[] = r % 2 === 0 ? ["stack", "alone"] : ["alone", "stack"];
      for (const target of order) {
        if (target === "alone") {
          // The harness's workerd is this process's child; the stack's is below scripts/dev.ts.
          const meter = new CpuMeter((p, { processes }) =>
            p.comm === "workerd" &&
            descendantsOf(process.pid, processes).has(p.pid) &&
            !descendantsOf(stack.pid, processes).has(p.pid)
              ? { group: ALONE_WORKERD }
              : undefined,
          );
          meter.start();
          const result = await runClosedLoop({
            concurrency: size.concurrency,
            durationMs: size.roundSeconds * 1000,
            send: send(target),
          });
          aloneWorkerdSeconds += meter.stop().cpuSeconds[ALONE_WORKERD] ?? 0;
          rounds.alone.push(result);
          context.log(`round ${r + 1} alone: ${Math.round(result.events / result.seconds)} events/s`);
          continue;
        }
        const before = await bridgeCounts(bridgeUrl);
        const meter = new CpuMeter(stackProcessClassifier(stack, context.databaseUrl, new Set()));
        const ownBefore = process.cpuUsage();
        meter.start();
        const result = await runClosedLoop({
          concurrency: size.concurrency,
          durationMs: size.roundSeconds * 1000,
          send: send(target),
        });
        const after = await bridgeCounts(bridgeUrl);
        // The consumers' share of these events, then idle for the next round.
        await waitForIdleQueues(stack, size.idleWaitSeconds * 1000);
        const cpu = meter.stop();
        const own = process.cpuUsage(ownBefore);
        rounds.stack.push(result);
        stackEvents += result.events;
        for (const [group, seconds] of Object.entries(
          cpuPerThousand(cpu, (own.user + own.system) / 1e6, result.events),
        ))
          stackCpu[group] = (stackCpu[group] ?? 0) + (seconds * result.events) / 1000;
        for (const area of new Set([...Object.keys(after.requests), ...Object.keys(before.requests)])) {
          bridgeRequests[area] =
            (bridgeRequests[area] ?? 0) + (after.requests[area] ?? 0) - (before.requests[area] ?? 0);
          bridgeSeconds[area] = (bridgeSeconds[area] ?? 0) + (after.seconds[area] ?? 0) - (before.seconds[area] ?? 0);
        }
        context.log(`round ${r + 1} stack: ${Math.round(result.events / result.seconds)} events/s`);
      }
    }
  } finally {
    client.close();
    await harness.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }

  const stackFigures = figuresOf(rounds.stack);
  const aloneFigures = figuresOf(rounds.alone);
  const ratio = round(stackFigures.events_per_second / aloneFigures.events_per_second, 2);
  const perRequest = (area: string) => round((bridgeRequests[area] ?? 0) / stackFigures.requests, 2);
  const bridgeMs = (area: string) =>
    (bridgeRequests[area] ?? 0) > 0
      ? round(((bridgeSeconds[area] ?? 0) / (bridgeRequests[area] ?? 1)) * 1000, 2)
      : null;
  const cpuPer1000 = Object.fromEntries(
    Object.entries(stackCpu).map(([group, seconds]) => [group, round((seconds / Math.max(1, stackEvents)) * 1000, 3)]),
  );
  const aloneEvents = rounds.alone.reduce((sum, r) => sum + r.events, 0);
  const aloneWorkerdPer1000 = round((aloneWorkerdSeconds / Math.max(1, aloneEvents)) * 1000, 3);
  const pct = (l: LatencySummary) => `${l.p50} / ${l.p95} / ${l.p99}`;
  // What this machine allows the stack at its measured CPU per event, whatever the layout: all
  // its processes (the load generator left out, in the stack's favour) on every core, and the one
  // thread that runs every Worker and the local queues.
  const cores = os.availableParallelism();
  const stackCpuPer1000 = Object.entries(cpuPer1000)
    .filter(([group]) => group !== CPU_GROUPS.loadGenerator)
    .reduce((sum, [, seconds]) => sum + seconds, 0);
  const ceilings = {
    cores,
    stack_cpu_seconds_per_1000_events_without_load_generator: round(stackCpuPer1000, 3),
    all_cores_events_per_second: Math.round((cores * 1000) / Math.max(0.001, stackCpuPer1000)),
    one_workerd_thread_events_per_second: Math.round(1000 / Math.max(0.001, cpuPer1000[CPU_GROUPS.workerd] ?? 0)),
  };
  const ceilingRatio = (rate: number) => round(rate / aloneFigures.events_per_second, 2);
  return {
    parameters: {
      stack:
        "scripts/dev.ts: one wrangler dev (producer + every consumer Worker, local queues), bridge with Redis (dedup, rate limit) and Kafka, Postgres bench database",
      producer_alone:
        "wrangler.toml through wrangler's createTestHarness with bench/workers/wrangler.queue-sink.toml; dedup and rate limit in isolate memory, no Kafka",
      event: `${EVENT_TYPE}, structured mode, a new citizen each`,
      load: `closed loop, ${size.concurrency} requests in flight, node:http keep-alive; ${size.rounds} alternating rounds of ${size.roundSeconds} s each`,
      between_rounds: `after each stack round, wait until its local queues were idle for a few seconds (at most ${size.idleWaitSeconds} s)`,
      target_ratio: TARGET_RATIO,
    },
    results: {
      stack: stackFigures,
      alone: aloneFigures,
      rounds: {
        stack: rounds.stack.map((r) => Math.round(r.events / r.seconds)),
        alone: rounds.alone.map((r) => Math.round(r.events / r.seconds)),
      },
      bridge_requests_per_api_request: Object.fromEntries(Object.keys(bridgeRequests).map((a) => [a, perRequest(a)])),
      bridge_ms_per_request: Object.fromEntries(Object.keys(bridgeRequests).map((a) => [a, bridgeMs(a)])),
      stack_cpu_seconds_per_1000_events: cpuPer1000,
      alone_workerd_cpu_seconds_per_1000_events: aloneWorkerdPer1000,
      ceilings,
    },
    ratios: { stack_vs_producer_alone_single: ratio },
    table: [
      {
        figure:
          "full local stack (Redis + Kafka via the bridge, consumers running) vs the producer alone, single events (events/s)",
        ours: stackFigures.events_per_second.toLocaleString("en-US"),
        baseline: `${aloneFigures.events_per_second.toLocaleString("en-US")} (producer alone)`,
        ratio: `${ratio}× (target ≥ ${TARGET_RATIO})`,
        headline: true,
      },
      {
        figure: `full local stack vs producer alone, single events, ${size.concurrency} in flight (ms, p50 / p95 / p99)`,
        ours: pct(stackFigures.latency_ms),
        baseline: `${pct(aloneFigures.latency_ms)} (alone)`,
        ratio: `${round(stackFigures.latency_ms.p50 / aloneFigures.latency_ms.p50, 1)}× at p50`,
      },
      {
        figure:
          "full local stack: bridge requests per API request (Redis REST; Kafka REST) and the bridge's ms per request",
        ours: `${perRequest("redis")}; ${perRequest("kafka")}`,
        baseline: `${bridgeMs("redis") ?? "–"} ms; ${bridgeMs("kafka") ?? "–"} ms`,
        ratio: "–",
      },
      {
        figure: `the stack's ceilings at its CPU per event (events/s): ${cores} cores for all its processes; the one workerd thread`,
        ours: `${ceilings.all_cores_events_per_second.toLocaleString("en-US")}; ${ceilings.one_workerd_thread_events_per_second.toLocaleString("en-US")}`,
        baseline: `${aloneFigures.events_per_second.toLocaleString("en-US")} (producer alone)`,
        ratio: `≤ ${ceilingRatio(ceilings.all_cores_events_per_second)}×; ≤ ${ceilingRatio(ceilings.one_workerd_thread_events_per_second)}×`,
      },
      {
        figure:
          "full local stack, single events: CPU seconds per 1,000 events (workerd with the consumers; wrangler's proxy; bridge; Redis; Kafka)",
        ours: [CPU_GROUPS.workerd, CPU_GROUPS.proxy, CPU_GROUPS.bridge, CPU_GROUPS.redis, CPU_GROUPS.kafka]
          .map((group) => cpuPer1000[group] ?? 0)
          .join("; "),
        baseline: `${aloneWorkerdPer1000} (workerd, producer alone)`,
        ratio: `${round((cpuPer1000[CPU_GROUPS.workerd] ?? 0) / Math.max(0.001, aloneWorkerdPer1000), 1)}× workerd CPU`,
      },
    ],
    chart: {
      title: "Full local stack vs the producer alone, single events",
      legend: { ours: "full stack", baseline: "producer alone" },
      subtitle: `closed loop, ${size.concurrency} in flight, ${size.rounds} alternating rounds of ${size.roundSeconds} s`,
      panels: [
        {
          title: "throughput",
          unit: "events/s",
          groups: [
            {
              label: "single events",
              bars: [
                { label: "stack", value: stackFigures.events_per_second, role: "ours" as const },
                { label: "alone", value: aloneFigures.events_per_second, role: "baseline" as const },
              ],
            },
          ],
        },
        {
          title: "request latency",
          unit: "ms",
          groups: (["p50", "p95", "p99"] as const).map((k) => ({
            label: k,
            bars: [
              { label: "stack", value: stackFigures.latency_ms[k], role: "ours" as const },
              { label: "alone", value: aloneFigures.latency_ms[k], role: "baseline" as const },
            ],
          })),
        },
      ],
    },
    notes: [
      "both targets share the machine's 2 cores with each other's idle processes; only one is loaded at a time",
      "the stack's consumers (citizen-sync ×2, notifier, archive, kafka-mirror) run in the same workerd as its producer and process the events during and after each stack round; the producer alone only acks them",
      "bridge requests per API request come from the bridge's /metrics (edgebus_bridge_http_requests_total by area), its time per request from edgebus_bridge_http_request_duration_seconds",
      "results.ceilings: the rate the stack could reach at its measured CPU per event if its processes (the load generator left out) used every core fully, and if the one workerd thread that runs every Worker and the local queues did; neither a queue setting nor a layout change lifts the first, only less CPU per event",
    ],
  };
}

export const stackBenchmark: Benchmark = {
  name: "stack",
  title: "Full local stack (Redis + Kafka) vs the producer alone, single events at saturation",
  run,
};
