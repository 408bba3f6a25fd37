/**
 * Where the producer's time goes in local workerd, stage by stage, measured as the producer
 * benchmark runs it (wrangler's test harness, one workerd process, 8 requests in flight, every
 * event new). Not part of `npm run bench`: a tool for the producer ÷ minimal gap.
 *
 *   npm run bench:producer-stages -- [--mode batch|single] [--rounds 8] [--seconds 4] [--out file.json]
 *
 * Five Workers side by side, rounds rotating which goes first:
 * - `empty`: the empty Hono route (`workers/empty-hono.ts`): HTTP, the harness and workerd per request;
 * - `producer-without-sends`: the producer app with a queue publisher that answers with receipts
 *   and sends nothing (`workers/producer-without-sends.ts`): everything the producer does but the sends;
 * - `minimal`: the minimal producer (`workers/minimal-producer.ts`), the benchmark's baseline;
 * - `minimal-sized`: the minimal producer sending messages as large as the producer's;
 * - `producer`: the producer (root `wrangler.toml`).
 *
 * Each round's figure is the workerd process's CPU per event (user + system from `/proc`, every
 * Worker and the local queues share that process), read after a pause that lets the queue sink
 * drain the round's messages, so a round's sends are charged to it with what the local queue
 * broker and the sink do for them. Rates and CPU per round vary a lot on a shared 2-core machine;
 * medians of several rounds are the figures to read.
 */
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createTestHarness } from "wrangler";
import { governmentCatalogue } from "../schemas/index.ts";
import { generateApiKey } from "../workers/producer/src/auth/key-hash.ts";
import { runClosedLoop } from "./lib/closed-loop.ts";
import { DEFAULT_BENCH_DATABASE_URL } from "./lib/environment.ts";
import { LoadClient } from "./lib/http-client.ts";
import { CpuMeter, descendantsOf, type ProcessClassifier } from "./lib/process-cpu.ts";
import { benchApiKeys, prepareHarnessEnvironment } from "./lib/producer-harness.ts";
import { median, round } from "./lib/stats.ts";
import { EVENT_TYPE, type Mode, requestFor } from "./producer-profile.ts";

const TARGETS = {
  empty: { host: "empty-hono.bench", keyed: false },
  "producer-without-sends": { host: "producer-without-sends.bench", keyed: true },
  minimal: { host: "minimal-producer.bench", keyed: false },
  "minimal-sized": { host: "minimal-producer-sized.bench", keyed: false },
  producer: { host: "producer.bench", keyed: true },
} as const;
type Target = keyof typeof TARGETS;
const IN_FLIGHT = 8;
/** Longer than the sink's `max_batch_timeout` (1 s), so a round's messages are consumed inside it. */
const DRAIN_MS = 2500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const WORKERD = "workerd";

/** Counts every workerd process below this one (the harness's runtime). */
const harnessWorkerd: ProcessClassifier = (p, { processes }) =>
  p.comm === "workerd" && descendantsOf(process.pid, processes).has(p.pid) ? { group: WORKERD } : undefined;

export interface StageReport {
  readonly mode: Mode;
  readonly rounds: number;
  readonly round_seconds: number;
  readonly load_average_1m: number;
  /** Per target: median events/s and median workerd CPU µs per event over the rounds. */
  readonly targets: Record<Target, { events_per_second: number; cpu_us_per_event: number }>;
  /** The differences of the medians, µs of workerd CPU per event. */
  readonly breakdown_us_per_event: {
    readonly http_and_runtime: number;
    readonly producer_own_work: number;
    readonly minimal_queue_sends: number;
    readonly larger_messages: number;
    readonly producer_sends_beyond_same_size: number;
  };
  readonly ratios: { readonly producer_vs_minimal: number; readonly producer_vs_minimal_sized: number };
}

export async function measureStages(mode: Mode, rounds: number, seconds: number): Promise<StageReport> {
  const apiKey = generateApiKey();
  const apiKeys = await benchApiKeys(apiKey);
  prepareHarnessEnvironment(process.env.DATABASE_URL || DEFAULT_BENCH_DATABASE_URL);
  const example = governmentCatalogue.require(EVENT_TYPE).example as Record<string, unknown>;
  const harness = createTestHarness({
    root: fileURLToPath(new URL("..", import.meta.url)),
    workers: [
      { configPath: "wrangler.toml", secrets: { EDGEBUS_API_KEYS: apiKeys } },
      { configPath: "bench/workers/wrangler.producer-without-sends.toml", secrets: { EDGEBUS_API_KEYS: apiKeys } },
      { configPath: "bench/workers/wrangler.empty-hono.toml" },
      { configPath: "bench/workers/wrangler.minimal-producer.toml" },
      { configPath: "bench/workers/wrangler.minimal-producer-sized.toml" },
      { configPath: "bench/workers/wrangler.queue-sink.toml" },
    ],
  });
  const client = new LoadClient();
  try {
    const { url } = await harness.listen();
    const send = (target: Target) => async () => {
      const request = requestFor(mode, example);
      const headers: Record<string, string> = { "content-type": request.contentType };
      if (TARGETS[target].keyed) headers.authorization = `Bearer ${apiKey}`;
      const answer = await client.post(
        { url: url.href, host: TARGETS[target].host },
        request.path,
        request.body,
        headers,
      );
      if (answer.status >= 300) throw new Error(`${target} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      if (TARGETS[target].keyed && mode === "batch" && !answer.body.includes(`"accepted":${request.events}`)) {
        throw new Error(`${target} did not accept every event: ${answer.body.slice(0, 300)}`);
      }
      return { events: request.events, elapsedMs: answer.elapsedMs };
    };
    const order = Object.keys(TARGETS) as Target[];
    for (const target of order) await runClosedLoop({ concurrency: IN_FLIGHT, durationMs: 3000, send: send(target) });
    await sleep(DRAIN_MS);
    const samples = Object.fromEntries(order.map((t) => [t, { rates: [] as number[], cpu: [] as number[] }])) as Record<
      Target,
      { rates: number[]; cpu: number[] }
    >;
    for (let r = 0; r < rounds; r++) {
      const line: string[] = [];
      for (const target of [...order.slice(r % order.length), ...order.slice(0, r % order.length)]) {
        const meter = new CpuMeter(harnessWorkerd);
        meter.start();
        const result = await runClosedLoop({ concurrency: IN_FLIGHT, durationMs: seconds * 1000, send: send(target) });
        await sleep(DRAIN_MS);
        const cpuUs = ((meter.stop().cpuSeconds[WORKERD] ?? 0) * 1e6) / result.events;
        samples[target].rates.push(result.events / result.seconds);
        samples[target].cpu.push(cpuUs);
        line.push(`${target} ${Math.round(result.events / result.seconds)}/s ${Math.round(cpuUs)} µs`);
      }
      console.error(`round ${r + 1}/${rounds} ${mode}: ${line.join(", ")}`);
    }
    const targets = Object.fromEntries(
      order.map((t) => [
        t,
        { events_per_second: Math.round(median(samples[t].rates)), cpu_us_per_event: round(median(samples[t].cpu)) },
      ]),
    ) as StageReport["targets"];
    const cpu = (t: Target) => targets[t].cpu_us_per_event;
    return {
      mode,
      rounds,
      round_seconds: seconds,
      load_average_1m: round(loadavg()[0] ?? 0, 2),
      targets,
      breakdown_us_per_event: {
        http_and_runtime: cpu("empty"),
        producer_own_work: round(cpu("producer-without-sends") - cpu("empty")),
        minimal_queue_sends: round(cpu("minimal") - cpu("empty")),
        larger_messages: round(cpu("minimal-sized") - cpu("minimal")),
        producer_sends_beyond_same_size: round(
          cpu("producer") - cpu("producer-without-sends") - (cpu("minimal-sized") - cpu("empty")),
        ),
      },
      ratios: {
        producer_vs_minimal: round(targets.producer.events_per_second / targets.minimal.events_per_second, 2),
        producer_vs_minimal_sized: round(
          targets.producer.events_per_second / targets["minimal-sized"].events_per_second,
          2,
        ),
      },
    };
  } finally {
    client.close();
    await harness.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      mode: { type: "string", default: "batch" },
      rounds: { type: "string", default: "8" },
      seconds: { type: "string", default: "4" },
      out: { type: "string" },
    },
  });
  if (values.mode !== "single" && values.mode !== "batch") throw new Error("--mode must be single or batch");
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be a positive integer");
  if (!(seconds > 0)) throw new Error("--seconds must be a positive number");
  const report = await measureStages(values.mode, rounds, seconds);
  console.log(JSON.stringify(report, null, 2));
  if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  process.exit(0);
}
