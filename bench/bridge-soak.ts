/**
 * Bridge soak: does the bridge's memory stay flat under a steady 5,000 messages/s for 5 minutes?
 *
 * The bridge runs as operators run it — its own process (`node <bridgeProcessArgs>`: the
 * bridge's Node options, `bridges/main.ts --config <file>`, as `npm run bridge` starts it), with an environment built from scratch (nothing inherited: no BRIDGE_*,
 * UPSTASH_*, KAFKA_*, REDIS_URL or DATABASE_URL of the caller's), Kafka REST, Redis REST (as its
 * restricted ACL user) and the mirror ingest into Kafka turned on. This process drives, open
 * loop, every 100 ms:
 *
 * - Kafka REST: `@upstash/kafka` `produceMany` batches of 25 (half the messages);
 * - mirror: signed `POST /v1/mirror` batches of 50 CloudEvents, as the kafka-mirror Worker sends
 *   them (the other half);
 * - Redis REST: `@upstash/redis` (auto-pipelined) running the producer's dedup traffic (see
 *   bench/redis-rest.ts), 100 publishes' worth a second (600 commands/s).
 *
 * It samples the child's resident memory (`VmRSS` in /proc/<pid>/status) and CPU time every
 * second, after a warm-up at the same load, and reports RSS at the start, min/max/last, the
 * least-squares slope and whether every sample stays within ±10 % of the median, beside the
 * achieved rate and the errors. Requests beyond 256 in flight are skipped and counted, never
 * queued in this process.
 *
 * Run: `npm run bench -- bridge-soak [--quick]` (5 minutes, or 30 s with --quick).
 * Creates topics `bench-soak-*` and keys under `edgebus:bench:*`; deletes nothing but its ACL user.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka } from "@upstash/kafka";
import { Redis as UpstashRedis } from "@upstash/redis";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { toKafkaRecord } from "../bridges/mirror/cloud-event-binding.ts";
import { bridgeProcessArgs } from "../bridges/v8-tuning.ts";
import { citizenEvent, postMirrorBatch } from "./lib/batch-load.ts";
import type { BenchContext, Benchmark } from "./lib/benchmark.ts";
import { type BenchmarkReport, rateRow } from "./lib/result-file.ts";
import { median, round } from "./lib/stats.ts";
import { buildUnits, gatewayUser, loadUnitScripts, runUnit, upstashClient } from "./redis-rest.ts";

/**
 * Warm-up: V8 sizes its heap to the load over the first minute (RSS rises from ~200 MB at startup
 * to its working size, then stays), so the soak's figures start after it; the chart shows it.
 */
const FULL = { warmupSeconds: 60, seconds: 300 };
const QUICK = { warmupSeconds: 10, seconds: 30 };
const TICK_MS = 100;
const TICKS_PER_SECOND = 1000 / TICK_MS;
/** Messages a second: half through Kafka REST, half through the mirror. */
const RATE = 5000;
const GATEWAY_BATCH = 25;
const MIRROR_BATCH = 50;
/** Producer dedup units a second through Redis REST (six commands each). */
const REDIS_UNITS_PER_SECOND = 100;
const MAX_IN_FLIGHT = 256;
/** The tolerance of "flat": every sample after warm-up within ±10 % of their median. */
const FLAT_TOLERANCE = 0.1;
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const stamp = Date.now().toString(36);

/** Environment variables the bridge's Node process itself may use; nothing else is passed on. */
const PASSED_ON = ["PATH", "HOME", "TMPDIR", "LANG", "TZ"];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no free port");
  return address.port;
}

interface BridgeChild {
  readonly url: string;
  readonly pid: number;
  /** The last 64 kB the bridge printed (for error messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the bridge as a separate process with `config` and `env` only; resolves once it listens. */
async function startBridge(config: Record<string, unknown>, env: Record<string, string>): Promise<BridgeChild> {
  const dir = await mkdtemp(path.join(tmpdir(), "edgebus-bench-soak-"));
  const configFile = path.join(dir, "bridge.json");
  await writeFile(configFile, JSON.stringify(config), { mode: 0o600 });
  const port = await freePort();
  const childEnv: Record<string, string> = { BRIDGE_PORT: String(port), ...env };
  for (const name of PASSED_ON) if (process.env[name] !== undefined) childEnv[name] = process.env[name] as string;
  const child: ChildProcess = spawn(process.execPath, bridgeProcessArgs(configFile), {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  const keep = (chunk: string) => {
    tail = (tail + chunk).slice(-65_536);
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.once("exit", () => {
          clearTimeout(force);
          resolve();
        });
        child.kill("SIGTERM");
      });
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bridge did not start in 60 s:\n${tail}`)), 60_000);
      const listening = () => {
        if (!tail.includes('"msg":"edgebus bridge listening"')) return;
        clearTimeout(timer);
        child.stdout?.off("data", listening);
        resolve();
      };
      child.stdout?.on("data", listening);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the bridge exited during startup (code ${code}):\n${tail}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid as number, output: () => tail, stop };
}

const SCRAPE_EVERY_SECONDS = 5;

interface SoakSample {
  second: number;
  rss_mb: number;
  cpu_seconds: number;
  acked: number;
  phase: string;
  /** From the bridge's /metrics, on the samples a scrape answered for. */
  heap_total_mb?: number;
  heap_used_mb?: number;
  external_mb?: number;
}

/** The bridge's V8 heap (reserved, used) and external memory in MB, from its /metrics. */
async function scrapeMemory(
  bridgeUrl: string,
): Promise<Pick<SoakSample, "heap_total_mb" | "heap_used_mb" | "external_mb">> {
  const text = await (await fetch(`${bridgeUrl}/metrics`, { signal: AbortSignal.timeout(4000) })).text();
  const megabytes = (name: string) => {
    const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    if (!match) throw new Error(`${name} is not on the bridge's /metrics`);
    return round(Number(match[1]) / 1_048_576, 1);
  };
  return {
    heap_total_mb: megabytes("nodejs_heap_size_total_bytes"),
    heap_used_mb: megabytes("nodejs_heap_size_used_bytes"),
    external_mb: megabytes("nodejs_external_memory_bytes"),
  };
}

/** Resident set size of process `pid` in MB (`VmRSS`), or NaN once it is gone. */
function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds process `pid` used so far (`/proc/<pid>/stat`, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Least-squares slope of `points` (y per unit of x). */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const [x, y] of points) {
    numerator += (x - meanX) * (y - meanY);
    denominator += (x - meanX) ** 2;
  }
  return denominator === 0 ? 0 : numerator / denominator;
}

interface Traffic {
  sent: Record<"gateway" | "mirror" | "redis", number>;
  acked: Record<"gateway_messages" | "mirror_events" | "redis_commands", number>;
  errors: number;
  skipped: number;
  firstErrors: string[];
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size = context.quick ? QUICK : FULL;
  const gatewayTopic = `bench-soak-${stamp}`;
  const mirrorTopic = `bench-soak-${stamp}-mirror`;
  const user = await gatewayUser(context.redisUrl, context.log);
  const secrets = {
    kafkaUsername: "bench",
    kafkaPassword: randomBytes(18).toString("hex"),
    redisToken: randomBytes(24).toString("hex"),
    mirrorSecret: randomBytes(24).toString("hex"),
  };
  const bridge = await startBridge(
    {
      kafka: {
        topics: { createPatterns: ["bench-soak-*"], defaultPartitions: 6, capReplication: true },
      },
      kafkaRest: { enabled: true },
      redisRest: { enabled: true, allowUnrestrictedUser: !user.restricted },
      mirror: {
        nonceKeyPrefix: "edgebus:bench:soak:nonce:",
        targets: [{ kind: "kafka", rename: [{ from: "gov.bench.citizen", to: mirrorTopic }] }],
      },
    },
    {
      KAFKA_BROKERS: context.kafkaBrokers,
      REDIS_URL: user.url,
      BRIDGE_KAFKA_REST_USERNAME: secrets.kafkaUsername,
      BRIDGE_KAFKA_REST_PASSWORD: secrets.kafkaPassword,
      BRIDGE_REDIS_REST_TOKEN: secrets.redisToken,
      BRIDGE_MIRROR_SECRET: secrets.mirrorSecret,
    },
  );
  context.log(`bridge pid ${bridge.pid} at ${bridge.url}, RSS ${round(rssMb(bridge.pid), 1)} MB after startup`);
  const kafka = new Kafka({
    url: `${bridge.url}/kafka`,
    username: secrets.kafkaUsername,
    password: secrets.kafkaPassword,
  });
  const producer = kafka.producer();
  const redis = new UpstashRedis({
    url: `${bridge.url}/redis`,
    token: secrets.redisToken,
    enableAutoPipelining: true,
    enableTelemetry: false,
    retry: { retries: 0 },
  });
  const redisClient = upstashClient(redis);
  await loadUnitScripts((script) => redis.scriptLoad(script));

  const traffic: Traffic = {
    sent: { gateway: 0, mirror: 0, redis: 0 },
    acked: { gateway_messages: 0, mirror_events: 0, redis_commands: 0 },
    errors: 0,
    skipped: 0,
    firstErrors: [],
  };
  let inFlight = 0;
  let eventNumber = 0;
  const nextEvents = (count: number) =>
    Array.from({ length: count }, () => {
      const i = eventNumber++;
      return citizenEvent(i, `soak-${stamp}-${i}`);
    });
  /** Sends one request unless too many are in flight; counts its outcome. */
  const send = (kind: keyof Traffic["sent"], work: () => Promise<void>) => {
    if (inFlight >= MAX_IN_FLIGHT) {
      traffic.skipped++;
      return;
    }
    inFlight++;
    traffic.sent[kind]++;
    work()
      .catch((error: unknown) => {
        traffic.errors++;
        if (traffic.firstErrors.length < 5) {
          traffic.firstErrors.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300));
        }
      })
      .finally(() => {
        inFlight--;
      });
  };
  const perTick = {
    gateway: RATE / 2 / GATEWAY_BATCH / TICKS_PER_SECOND,
    mirror: RATE / 2 / MIRROR_BATCH / TICKS_PER_SECOND,
    redis: REDIS_UNITS_PER_SECOND / TICKS_PER_SECOND,
  };
  let unitBatch = 0;
  const tick = async (tickNumber: number) => {
    // Fractional rates add up across ticks: send what is due by the end of this tick.
    const due = (kind: keyof typeof perTick) =>
      Math.floor((tickNumber + 1) * perTick[kind]) - Math.floor(tickNumber * perTick[kind]);
    for (let i = 0; i < due("gateway"); i++) {
      const messages = nextEvents(GATEWAY_BATCH).map((event) => {
        const record = toKafkaRecord(event as CloudEventRecord, gatewayTopic, "binary");
        return {
          topic: gatewayTopic,
          value: record.value as string,
          key: record.key,
          headers: [...(record.headers ?? [])],
        };
      });
      send("gateway", async () => {
        await producer.produceMany(messages);
        traffic.acked.gateway_messages += messages.length;
      });
    }
    for (let i = 0; i < due("mirror"); i++) {
      const events = nextEvents(MIRROR_BATCH);
      send("mirror", async () => {
        await postMirrorBatch(bridge.url, secrets.mirrorSecret, events);
        traffic.acked.mirror_events += events.length;
      });
    }
    const units = due("redis");
    if (units > 0) {
      const batch = await buildUnits(`soak-${unitBatch++}`, units);
      for (const unit of batch) {
        send("redis", async () => {
          await runUnit(redisClient, unit);
          traffic.acked.redis_commands += 6;
        });
      }
    }
  };

  const samples: SoakSample[] = [];
  const totalSeconds = size.warmupSeconds + size.seconds;
  const began = performance.now();
  const ackedSoFar = () => traffic.acked.gateway_messages + traffic.acked.mirror_events;
  const sampler = setInterval(() => {
    const second = Math.round((performance.now() - began) / 1000);
    const sample: SoakSample = {
      second,
      rss_mb: round(rssMb(bridge.pid), 1),
      cpu_seconds: cpuSeconds(bridge.pid),
      acked: ackedSoFar(),
      phase: second <= size.warmupSeconds ? "warm-up" : "soak",
    };
    samples.push(sample);
    // How the bridge's own /metrics splits its memory, scraped as Prometheus would (every 5 s).
    if (second % SCRAPE_EVERY_SECONDS === 0)
      void scrapeMemory(bridge.url)
        .then((split) => Object.assign(sample, split))
        .catch(() => undefined);
    if (second % 30 === 0 && second > 0) {
      const last = samples.at(-1);
      context.log(
        `${second}s: RSS ${last?.rss_mb} MB, ${traffic.acked.gateway_messages + traffic.acked.mirror_events} messages acked, ${traffic.errors} errors, ${traffic.skipped} skipped, ${inFlight} in flight`,
      );
    }
  }, 1000);
  context.log(
    `driving ${RATE} msg/s (+${REDIS_UNITS_PER_SECOND * 6} Redis commands/s): ${size.warmupSeconds} s warm-up, then ${size.seconds} s`,
  );
  try {
    const totalTicks = totalSeconds * TICKS_PER_SECOND;
    for (let t = 0; t < totalTicks; t++) {
      // Open loop on a fixed schedule: a slow tick does not push later ones back.
      const dueAt = began + t * TICK_MS;
      const wait = dueAt - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await tick(t);
    }
    const drainStart = performance.now();
    while (inFlight > 0 && performance.now() - drainStart < 30_000) await new Promise((r) => setTimeout(r, 50));
  } finally {
    clearInterval(sampler);
  }
  const alive = Number.isFinite(rssMb(bridge.pid));
  await bridge.stop();
  await user.drop();
  if (!alive) throw new Error(`the bridge died during the soak:\n${bridge.output()}`);

  // Figures: the soak phase only (after warm-up).
  const soak = samples.filter((s) => s.phase === "soak" && Number.isFinite(s.rss_mb));
  const rss = soak.map((s) => s.rss_mb);
  const sorted = [...rss].sort((a, b) => a - b);
  const rssMedian = median(sorted);
  const [first, last] = [soak[0], soak.at(-1)];
  const soakSeconds = first && last ? last.second - first.second : 0;
  const slopePerMinute = slope(soak.map((s) => [s.second / 60, s.rss_mb] as const));
  const within = rss.every((v) => Math.abs(v - rssMedian) <= FLAT_TOLERANCE * rssMedian);
  const achieved = first && last && soakSeconds > 0 ? Math.round((last.acked - first.acked) / soakSeconds) : 0;
  const cpuPercent =
    first && last && soakSeconds > 0 ? round((100 * (last.cpu_seconds - first.cpu_seconds)) / soakSeconds, 1) : 0;
  const rssFigures = {
    at_start_after_warm_up: first?.rss_mb ?? Number.NaN,
    median: round(rssMedian, 1),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    last: last?.rss_mb ?? Number.NaN,
    slope_mb_per_minute: round(slopePerMinute, 2),
    max_deviation_from_median_percent: round(
      (100 * Math.max(...rss.map((v) => Math.abs(v - rssMedian)))) / (rssMedian || 1),
      1,
    ),
    within_10_percent_of_median: within,
  };
  context.log(
    `RSS after warm-up ${rssFigures.at_start_after_warm_up} MB, median ${rssFigures.median}, min ${rssFigures.min}, max ${rssFigures.max}, last ${rssFigures.last}, slope ${rssFigures.slope_mb_per_minute} MB/min, flat: ${within ? "yes" : "no"}`,
  );
  const split = (key: "heap_total_mb" | "heap_used_mb" | "external_mb") => {
    const values = soak.flatMap((s) => (s[key] === undefined ? [] : [s[key]])).sort((a, b) => a - b);
    return { median: round(median(values), 1), min: values[0] ?? Number.NaN, max: values.at(-1) ?? Number.NaN };
  };
  const results = {
    rss_mb: rssFigures,
    memory_split_mb: {
      heap_total: split("heap_total_mb"),
      heap_used: split("heap_used_mb"),
      external: split("external_mb"),
    },
    achieved_messages_per_second: achieved,
    offered_messages_per_second: RATE,
    bridge_cpu_percent_of_one_core: cpuPercent,
    traffic,
    samples,
  };
  const flatText = within ? "yes" : "no";
  return {
    parameters: {
      warm_up_seconds: size.warmupSeconds,
      soak_seconds: size.seconds,
      offered_messages_per_second: RATE,
      kafka_rest: `${RATE / 2} msg/s as @upstash/kafka produceMany batches of ${GATEWAY_BATCH}`,
      mirror: `${RATE / 2} events/s as signed POST /v1/mirror batches of ${MIRROR_BATCH} (Kafka target)`,
      redis_rest: `${REDIS_UNITS_PER_SECOND} producer dedup units/s (${REDIS_UNITS_PER_SECOND * 6} commands/s) via @upstash/redis, auto-pipelined`,
      max_in_flight: MAX_IN_FLIGHT,
      bridge: `separate process: node ${bridgeProcessArgs("<file>").join(" ")}, environment built from scratch`,
      sampling: `VmRSS from /proc/<pid>/status and CPU time from /proc/<pid>/stat, every second; the V8 heap (reserved, used) and external memory from the bridge's /metrics every ${SCRAPE_EVERY_SECONDS} s`,
    },
    results,
    ratios: {
      rss_max_deviation_from_median: round(rssFigures.max_deviation_from_median_percent / 100, 3),
      achieved_vs_offered: round(achieved / RATE, 2),
    },
    table: [
      {
        figure: `bridge RSS over a ${size.seconds} s soak at ${RATE.toLocaleString("en-US")} msg/s after ${size.warmupSeconds} s warm-up (MB: start / median / min–max / last; slope)`,
        ours: `${rssFigures.at_start_after_warm_up} / ${rssFigures.median} / ${rssFigures.min}–${rssFigures.max} / ${rssFigures.last}; ${rssFigures.slope_mb_per_minute} MB/min`,
        baseline: "flat: within ±10 % of the median",
        ratio: `flat: ${flatText} (±${rssFigures.max_deviation_from_median_percent} %)`,
        headline: true,
      },
      rateRow(
        `bridge soak: messages acked per second (Kafka REST + mirror), ${traffic.errors} errors, ${traffic.skipped} skipped`,
        achieved,
        { value: RATE, label: "offered" },
      ),
    ],
    chart: {
      title: `Bridge resident memory over a ${size.seconds} s soak at ${RATE.toLocaleString("en-US")} msg/s`,
      subtitle: `Kafka REST + signed mirror batches + Redis REST dedup traffic; separate bridge process; ${size.warmupSeconds} s warm-up first (not in the band)`,
      panels: [
        {
          title: "bridge RSS, every second",
          unit: "MB",
          xUnit: "s",
          lines: [
            {
              label: "bridge RSS (soak)",
              role: "ours",
              points: soak.map((s) => [s.second, s.rss_mb] as const),
            },
            {
              label: "bridge RSS (warm-up)",
              role: "reference",
              points: samples.filter((s) => s.phase === "warm-up").map((s) => [s.second, s.rss_mb] as const),
            },
          ],
          band: {
            low: round(rssMedian * (1 - FLAT_TOLERANCE), 1),
            high: round(rssMedian * (1 + FLAT_TOLERANCE), 1),
            label: "±10 % of the soak's median",
          },
        },
        {
          title: "rate during the soak",
          unit: "messages/s",
          groups: [
            {
              label: "Kafka REST + mirror",
              bars: [
                { label: "acked", value: achieved, role: "ours" },
                { label: "offered", value: RATE, role: "baseline" },
              ],
            },
          ],
        },
      ],
      legend: { ours: "bridge RSS / acked", reference: "warm-up", baseline: "offered" },
    },
    notes: [
      "the bridge is its own process; this process (the load) and Kafka and Redis share the same 2 cores with it",
      "flat means every RSS sample after the warm-up lies within ±10 % of their median; the slope is a least-squares fit over the same samples",
      "open loop every 100 ms: requests beyond 256 in flight are skipped (counted), not queued",
      "achieved rate: messages and events the bridge acknowledged per second between the first and last soak sample",
    ],
  };
}

export const bridgeSoakBenchmark: Benchmark = {
  name: "bridge-soak",
  title: "Bridge RSS over a soak at 5,000 msg/s (Kafka REST, mirror, Redis REST)",
  run,
};
