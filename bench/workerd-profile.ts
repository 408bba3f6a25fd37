/**
 * A V8 CPU profile of a Worker **inside workerd**, as the producer benchmark's throughput rounds
 * run it, where `producer-profile.ts` profiles the producer's code in Node. Not part of
 * `npm run bench`: a tool for finding where a Worker's time goes before changing it.
 *
 *   npm run bench:workerd-profile -- [--worker producer|minimal] [--mode single|batch] [--seconds 8]
 *
 * It starts `wrangler dev` for the Worker alone (dedup and rate limit in isolate memory, the local
 * queues, no Kafka: the benchmark's configuration) with its inspector on, sends the benchmark's
 * requests (8 in flight, every event new) for a warm-up and then for `--seconds` under the
 * profiler, and prints the functions with the most self and inclusive time, mapped back to the
 * source files through wrangler's source map. `--out file.json` also writes the summary.
 *
 * How to read it: the profile covers the isolate's thread. workerd's own work done while a
 * function waits on it synchronously — a queue binding's `sendBatch` serialising messages, a body
 * being read, a `Response` built — counts as that function's self time, so the figures rank where
 * the thread goes rather than measure a function alone (December 2026: Hono's router showed about
 * 140 µs per request here against 0.8 µs timed in Node, the request's dispatch landing on it).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { governmentCatalogue } from "../schemas/index.ts";
import { scrubbedEnv } from "../test/support/child-env.ts";
import { generateApiKey } from "../workers/producer/src/auth/key-hash.ts";
import { type ClosedLoopResult, runClosedLoop } from "./lib/closed-loop.ts";
import { type Profile, type ProfileSummary, summariseProfile } from "./lib/cpu-profile.ts";
import { DEFAULT_BENCH_DATABASE_URL } from "./lib/environment.ts";
import { LoadClient } from "./lib/http-client.ts";
import { benchApiKeys, prepareHarnessEnvironment } from "./lib/producer-harness.ts";
import { EVENT_TYPE, type Mode, requestFor } from "./producer-profile.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const CONFIGS = {
  producer: "wrangler.toml",
  minimal: "bench/workers/wrangler.minimal-producer.toml",
} as const;
type WorkerName = keyof typeof CONFIGS;
const PORT = 28_997;
const INSPECTOR_PORT = 28_998;
const IN_FLIGHT = 8;

export interface WorkerdProfile {
  readonly worker: WorkerName;
  readonly mode: Mode;
  readonly events_per_second: number;
  /** Profiled (non-idle) isolate time per event, in µs: includes the profiler's own cost. */
  readonly busy_us_per_event: number;
  readonly profile: ProfileSummary;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The environment `wrangler dev` gets: what the producer benchmark's harness sets (quiet wrangler,
 * Hyperdrive pointed at the bench database), less a developer's own server and credential settings.
 */
function wranglerEnvironment(): NodeJS.ProcessEnv {
  prepareHarnessEnvironment(process.env.DATABASE_URL || DEFAULT_BENCH_DATABASE_URL);
  return scrubbedEnv();
}

/** A minimal Chrome DevTools Protocol client: one call at a time is all this needs. */
class Inspector {
  readonly #socket: WebSocket;
  #id = 0;
  readonly #pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return;
      const call = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) call?.reject(new Error(`inspector: ${message.error.message}`));
      else call?.resolve(message.result);
    });
  }

  static async connect(port: number): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
    const url = targets[0]?.webSocketDebuggerUrl;
    if (url === undefined) throw new Error(`no inspector target on port ${port}`);
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    return new Inspector(socket);
  }

  call<T>(method: string, params: object = {}): Promise<T> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#socket.close();
  }
}

/** The benchmark's closed loop: `IN_FLIGHT` requests at a time for `ms`; what the Worker accepted, and in how long. */
async function load(worker: WorkerName, mode: Mode, apiKey: string, ms: number): Promise<ClosedLoopResult> {
  const example = governmentCatalogue.require(EVENT_TYPE).example as Record<string, unknown>;
  const client = new LoadClient(IN_FLIGHT);
  const target = { url: `http://127.0.0.1:${PORT}/` };
  try {
    return await runClosedLoop({
      concurrency: IN_FLIGHT,
      durationMs: ms,
      send: async () => {
        const request = requestFor(mode, example);
        const headers: Record<string, string> = { "content-type": request.contentType };
        if (worker === "producer") headers.authorization = `Bearer ${apiKey}`;
        const answer = await client.post(target, request.path, request.body, headers);
        if (answer.status >= 300) throw new Error(`${worker} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
        return { events: request.events, elapsedMs: answer.elapsedMs };
      },
    });
  } finally {
    client.close();
  }
}

/** The newest source map wrangler wrote for a Worker whose config lives in `configDir`, if any. */
function newestSourceMapFile(configDir: string): string | undefined {
  const base = path.join(configDir, ".wrangler", "tmp");
  let newest: { file: string; at: number } | undefined;
  let folders: string[];
  try {
    folders = readdirSync(base).filter((name) => name.startsWith("dev-"));
  } catch {
    return undefined;
  }
  for (const folder of folders) {
    for (const file of readdirSync(path.join(base, folder))) {
      if (!file.endsWith(".js.map")) continue;
      const full = path.join(base, folder, file);
      const at = statSync(full).mtimeMs;
      if (newest === undefined || at > newest.at) newest = { file: full, at };
    }
  }
  return newest?.file;
}

/** `profile` with each bundle position replaced by its source file and line, so the summary names them. */
async function mapToSources(profile: Profile, configDir: string): Promise<Profile> {
  const found = newestSourceMapFile(configDir);
  if (found === undefined) return profile;
  const map = new SourceMap(JSON.parse(await readFile(found, "utf8")));
  const mapDir = path.dirname(found);
  const nodes = profile.nodes.map((node) => {
    const { url, lineNumber, columnNumber } = node.callFrame;
    if (!url.endsWith(".js") || lineNumber < 0) return node;
    const entry = map.findEntry(lineNumber, columnNumber ?? 0) as { originalSource?: string; originalLine?: number };
    if (entry.originalSource === undefined || entry.originalLine === undefined) return node;
    const source = entry.originalSource.startsWith("file://")
      ? entry.originalSource
      : `file://${path.resolve(mapDir, entry.originalSource)}`;
    return { ...node, callFrame: { ...node.callFrame, url: source, lineNumber: entry.originalLine } };
  });
  return { ...profile, nodes };
}

async function waitUntilServing(child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${PORT}/healthz`);
      await response.body?.cancel();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new Error("wrangler dev did not answer within 180 s");
}

export async function profileInWorkerd(
  worker: WorkerName,
  mode: Mode,
  seconds: number,
  warmupSeconds = 5,
): Promise<WorkerdProfile> {
  const apiKey = generateApiKey();
  const apiKeys = await benchApiKeys(apiKey);
  const state = await mkdtemp(path.join(tmpdir(), "edgebus-workerd-profile-"));
  const config = CONFIGS[worker];
  const child = spawn(
    process.execPath,
    [
      path.join(root, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "-c",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(PORT),
      "--inspector-port",
      String(INSPECTOR_PORT),
      "--persist-to",
      state,
      "--show-interactive-dev-session=false",
      ...(worker === "producer" ? ["--var", `EDGEBUS_API_KEYS:${apiKeys}`] : []),
    ],
    { cwd: root, env: wranglerEnvironment(), stdio: ["ignore", "ignore", "inherit"], detached: true },
  );
  try {
    await waitUntilServing(child);
    await load(worker, mode, apiKey, warmupSeconds * 1000);
    const inspector = await Inspector.connect(INSPECTOR_PORT);
    try {
      await inspector.call("Profiler.enable");
      await inspector.call("Profiler.setSamplingInterval", { interval: 200 });
      await inspector.call("Profiler.start");
      const { events, seconds: elapsed } = await load(worker, mode, apiKey, seconds * 1000);
      const { profile } = await inspector.call<{ profile: Profile }>("Profiler.stop");
      const summary = summariseProfile(await mapToSources(profile, path.dirname(path.join(root, config))), 25);
      return {
        worker,
        mode,
        events_per_second: Math.round(events / elapsed),
        busy_us_per_event: Math.round(((summary.total_ms * 1000) / events) * 10) / 10,
        profile: summary,
      };
    } finally {
      inspector.close();
    }
  } finally {
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGTERM");
      await exited;
    }
    await rm(state, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      worker: { type: "string", default: "producer" },
      mode: { type: "string", default: "batch" },
      seconds: { type: "string", default: "8" },
      out: { type: "string" },
    },
  });
  if (!(values.worker in CONFIGS)) throw new Error(`--worker must be one of ${Object.keys(CONFIGS).join(", ")}`);
  if (values.mode !== "single" && values.mode !== "batch") throw new Error("--mode must be single or batch");
  const result = await profileInWorkerd(values.worker as WorkerName, values.mode, Number(values.seconds));
  console.log(
    `${result.worker}, ${result.mode}: ${result.events_per_second} events/s under the profiler; ${result.busy_us_per_event} µs of isolate time per event`,
  );
  const table = (title: string, entries: ProfileSummary["top_self"]) => {
    console.log(`\n${title}`);
    for (const entry of entries) console.log(`${entry.percent.toFixed(1).padStart(6)} %  ${entry.function}`);
  };
  table("self time", result.profile.top_self);
  table("inclusive time", result.profile.top_inclusive);
  if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
}
