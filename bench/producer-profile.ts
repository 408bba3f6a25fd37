/**
 * Where the producer's own CPU goes, measured the way workerd runs it. workerd forbids `eval` and
 * `new Function`, so zod 4 validates there without its JIT-compiled object parsers; Node allows
 * them, and a profile taken in this process would show a cheaper validation than the Worker pays.
 * `measureProducerCpu` therefore runs this file again as a child Node process, which sets
 * `z.config({ jitless: true })` before any schema is built (`runChild`), and measures there:
 *
 * - CPU per event of parse → validate → route (`parseSingleEvent`/`parseBatch` → `normaliseEvent`
 *   → `routeEvent`, the functions the Worker calls), with `process.cpuUsage`;
 * - CPU per event of the whole producer app (`createProducerApp`, auth to receipts), the same way;
 * - V8 CPU profiles of the producer app with the same requests as the workerd rounds of
 *   `producer.ts`: dedup and rate limits in memory, Kafka off, and queue bindings that accept
 *   every batch and keep nothing, so the profile holds the producer's work and not a runtime's:
 *   workerd's HTTP, isolate and queue costs are in the throughput figures instead.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type ProfileSummary, profileCpu } from "./lib/cpu-profile.ts";

export const BATCH_SIZE = 100;
export const EVENT_TYPE = "gov.auth.citizen.created";

export type Mode = "single" | "batch";

export interface ProfiledRequest {
  readonly path: string;
  readonly body: string;
  readonly contentType: string;
  readonly events: number;
}

let citizenCounter = Math.floor(Math.random() * 1e9);

/**
 * A valid catalogue event with a fresh id and citizen: never a duplicate, so every one is
 * published. `example`: the catalogue's example `data` of `EVENT_TYPE`.
 */
export function citizenEvent(example: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const citizenId = 10_000_000_000 + citizenCounter++;
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/bench/identity",
    type: EVENT_TYPE,
    eventversion: 1,
    data: { ...example, id: citizenId },
  };
}

/** One publish request of `mode`: a single event, or a batch of `BATCH_SIZE`. */
export function requestFor(mode: Mode, example: Readonly<Record<string, unknown>>): ProfiledRequest {
  if (mode === "single") {
    return {
      path: "/v1/events",
      body: JSON.stringify(citizenEvent(example)),
      contentType: "application/cloudevents+json",
      events: 1,
    };
  }
  return {
    path: "/v1/events/batch",
    body: JSON.stringify(Array.from({ length: BATCH_SIZE }, () => citizenEvent(example))),
    contentType: "application/cloudevents-batch+json",
    events: BATCH_SIZE,
  };
}

export interface ProducerCpuOptions {
  /** `EDGEBUS_API_KEYS` (JSON) and a key it holds. */
  readonly apiKeys: string;
  readonly apiKey: string;
  /** Events for the CPU figures, single and in batches. */
  readonly cpuEvents: number;
  /** Events for each profile, single and in batches. */
  readonly profileEvents: number;
}

export interface ProducerCpu {
  /** zod's configuration in the child: jitless, as in workerd. */
  readonly zod: "jitless";
  /** µs per event of parse → validate → route. */
  readonly cpu_per_event_us: { single_us: number; batch_us: number };
  /** µs per event of the whole producer app (auth, body, parse, validate, route, dedup, sends, receipts). */
  readonly app_cpu_per_event_us: { single_us: number; batch_us: number };
  readonly cpu_profiles: { single: ProfileSummary; batch: ProfileSummary };
}

/** Runs this file in a new Node process with zod jitless and returns what it measured there. */
export async function measureProducerCpu(options: ProducerCpuOptions): Promise<ProducerCpu> {
  const folder = await mkdtemp(path.join(tmpdir(), "edgebus-producer-cpu-"));
  const output = path.join(folder, "result.json");
  const child = fileURLToPath(import.meta.url);
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      const process_ = spawn(process.execPath, ["--import", "tsx", child, output], {
        env: { ...process.env, PRODUCER_CPU_OPTIONS: JSON.stringify(options) },
        stdio: ["ignore", "ignore", "inherit"],
      });
      process_.on("error", reject);
      process_.on("exit", resolve);
    });
    if (exitCode !== 0) throw new Error(`the producer CPU measurement (${child}) exited with ${exitCode}`);
    return JSON.parse(await readFile(output, "utf8")) as ProducerCpu;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Queue bindings of the producer (root `wrangler.toml`). */
const QUEUE_BINDINGS = [
  "Q_PERMITS_CITIZEN_SYNC",
  "Q_REVENUE_CITIZEN_SYNC",
  "Q_NOTIFICATIONS",
  "Q_KAFKA_MIRROR",
  "Q_ARCHIVE",
  "Q_WEBHOOKS",
] as const;

function cpuMicros(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

async function cpuMicrosAsync(work: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** The child's work; the catalogue and the producer are imported only now, after `z.config`. */
async function runChild(output: string, options: ProducerCpuOptions): Promise<void> {
  z.config({ jitless: true });
  const { writeFile } = await import("node:fs/promises");
  const { routeEvent } = await import("#shared/routing/router.ts");
  const { governmentCatalogue, governmentPlugin } = await import("../schemas/index.ts");
  const { parseBatch, parseSingleEvent } = await import("../workers/producer/src/envelope/http-binding.ts");
  const { normaliseEvent } = await import("../workers/producer/src/envelope/normalise.ts");
  const { createProducerApp } = await import("../workers/producer/src/app.ts");
  const example = governmentCatalogue.require(EVENT_TYPE).example as Record<string, unknown>;

  // Parse → validate → route, per event.
  const routeOptions = { kafkaEnabled: true };
  const singleHeaders = new Headers({ "content-type": "application/cloudevents+json" });
  const batchHeaders = new Headers({ "content-type": "application/cloudevents-batch+json" });
  const single = (body: string) => {
    const event = normaliseEvent(parseSingleEvent(singleHeaders, body).attributes, governmentCatalogue);
    routeEvent(governmentPlugin.routes, event, routeOptions);
  };
  const batch = (body: string) => {
    for (const item of parseBatch(batchHeaders, body)) {
      if (!item.ok) throw item.error;
      routeEvent(governmentPlugin.routes, normaliseEvent(item.event.attributes, governmentCatalogue), routeOptions);
    }
  };
  const singles = Array.from({ length: options.cpuEvents }, () => requestFor("single", example).body);
  const batches = Array.from(
    { length: Math.ceil(options.cpuEvents / BATCH_SIZE) },
    () => requestFor("batch", example).body,
  );
  // Warm-up: let V8 optimise the paths before measuring.
  for (const body of singles.slice(0, Math.min(1000, singles.length))) single(body);
  for (const body of batches.slice(0, Math.min(10, batches.length))) batch(body);
  const singleUs = cpuMicros(() => {
    for (const body of singles) single(body);
  });
  const batchUs = cpuMicros(() => {
    for (const body of batches) batch(body);
  });

  // The whole app, per event, then under the profiler.
  // Accepts and drops: the sends' own cost is workerd's, measured by the throughput rounds.
  const discard = { send: async () => {}, sendBatch: async () => {} };
  const env: Record<string, unknown> = { EDGEBUS_API_KEYS: options.apiKeys, ENVIRONMENT: "development" };
  for (const binding of QUEUE_BINDINGS) env[binding] = discard;
  const app = createProducerApp();
  const send = async (request: ProfiledRequest) => {
    const response = await app.request(
      request.path,
      {
        method: "POST",
        body: request.body,
        headers: { authorization: `Bearer ${options.apiKey}`, "content-type": request.contentType },
      },
      env,
    );
    const text = await response.text();
    if (response.status >= 300) throw new Error(`producer answered ${response.status}: ${text.slice(0, 200)}`);
  };
  const appRun = async (mode: Mode, events: number) => {
    const requests = Array.from({ length: Math.ceil(events / (mode === "single" ? 1 : BATCH_SIZE)) }, () =>
      requestFor(mode, example),
    );
    const count = requests.length * (mode === "single" ? 1 : BATCH_SIZE);
    // Warm-up outside the measurement: module loading and V8's optimisation are not the hot path.
    for (let i = 0; i < Math.min(50, requests.length); i++) await send(requestFor(mode, example));
    return { requests, count };
  };
  const appCpu = async (mode: Mode) => {
    const { requests, count } = await appRun(mode, options.cpuEvents);
    const micros = await cpuMicrosAsync(async () => {
      for (const request of requests) await send(request);
    });
    return round1(micros / count);
  };
  const profile = async (mode: Mode) => {
    const { requests } = await appRun(mode, options.profileEvents);
    return profileCpu(async () => {
      for (const request of requests) await send(request);
    });
  };
  const result: ProducerCpu = {
    zod: "jitless",
    cpu_per_event_us: {
      single_us: round1(singleUs / singles.length),
      batch_us: round1(batchUs / (batches.length * BATCH_SIZE)),
    },
    app_cpu_per_event_us: { single_us: await appCpu("single"), batch_us: await appCpu("batch") },
    cpu_profiles: { single: await profile("single"), batch: await profile("batch") },
  };
  await writeFile(output, JSON.stringify(result));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const output = process.argv[2];
  const options = process.env.PRODUCER_CPU_OPTIONS;
  if (output === undefined || options === undefined) throw new Error("usage: producer-profile.ts <result file>");
  await runChild(output, JSON.parse(options) as ProducerCpuOptions);
}
