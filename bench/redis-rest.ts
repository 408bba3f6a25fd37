/**
 * Bridge Redis REST gateway: what serving Redis over the Upstash REST protocol costs compared with
 * talking to Redis directly, two ways in one run against the same Redis with the same commands:
 *
 * 1. gateway process — the unmodified `@upstash/redis` client with `enableAutoPipelining: true`
 *              (what a Worker uses; base64 responses, its default) over HTTP to the bridge's Redis
 *              REST app (`bridges/redis-rest/app.ts`) served as the bridge serves it (the client's
 *              `POST /redis/pipeline` etc. on the lean routes, the rest on Hono), connected as the
 *              gateway's restricted ACL user, in a process of its own (`bridge-process.ts`), as
 *              deployed: the clients are Workers at the edge. The headline.
 * 2. gateway — the same, served in this process beside the client (the figure reported first).
 * 3. client ceiling — the same client against a server in its own process that answers every
 *              pipeline at once with canned replies of the same shapes: no Redis, no gateway work.
 *              No gateway can take this client past that rate.
 * 4. direct  — ioredis with `enableAutoPipelining: true` (the commands of one event-loop turn go
 *              out as one pipeline), straight to Redis: the ceiling.
 *
 * The commands are the producer's: each unit of work is one publish as the producer's Redis dedup
 * store makes it — its begin script (rate limit + dedup lease + record, one event), then four
 * cache-style commands at once (`GET`, `SET … NX PX`, `INCR`, `SET … EX`), then its finish script,
 * both scripts by `EVALSHA` as the store sends them once Redis holds them — and `--callers` units
 * run concurrently, so the clients' auto-pipelining groups what the callers issue together. The
 * scripts, keys and arguments are recorded from `RedisDedupStore` itself, so they stay the
 * producer's. Best of `--runs` per way, runs interleaved; HTTP requests and Redis writes are
 * counted per 1,000 commands, and one more run of each way is CPU-profiled.
 *
 * Run: `npm run bench -- redis-rest [--quick]` (REDIS_URL, default redis://127.0.0.1:6379).
 * Writes keys under `edgebus:bench:redis-rest:*` (every one expires within 10 minutes, counters
 * aside); creates and drops an ACL user of its own.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis as UpstashRedis } from "@upstash/redis";
import { Hono } from "hono";
import { Redis as IORedis } from "ioredis";
import type { LeanRoute } from "../bridges/http/lean-routes.ts";
import { createRedisRestGateway } from "../bridges/redis-rest/app.ts";
import { createGatewayAclUser, redisUrlAs, redisUrlParts } from "../bridges/redis-rest/redis-acl.ts";
import { encodeReply, type JsonReply } from "../bridges/redis-rest/reply-encoding.ts";
import { openGatewayRedis } from "../bridges/redis-rest/serve.ts";
import { RedisDedupStore } from "../workers/producer/src/dedup/redis-dedup-store.ts";
import { type BenchBridgeFactory, forkBridge } from "./bridge-process.ts";
import { type BatchFigures, bestOfInterleaved, serveLocally } from "./lib/batch-load.ts";
import type { BenchContext, Benchmark } from "./lib/benchmark.ts";
import { type ProfileSummary, profileCpu } from "./lib/cpu-profile.ts";
import { packageVersion } from "./lib/environment.ts";
import { type BenchmarkReport, rateRow } from "./lib/result-file.ts";
import { median, percentile, round } from "./lib/stats.ts";

const FULL = { units: 10_000, callers: 64, runs: 5 };
const QUICK = { units: 1000, callers: 64, runs: 2 };
type Size = typeof FULL;
const COMMANDS_PER_UNIT = 6;
/** Record TTL in the begin script: the producer keeps records a day; the bench's expire sooner. */
const RECORD_TTL_SECONDS = 600;
const stamp = Date.now().toString(36);
const PREFIX = `edgebus:bench:redis-rest:${stamp}`;

/** One command as both clients take it: a script call, or a plain command with its arguments. */
interface ScriptCall {
  readonly script: string;
  readonly sha: string;
  readonly keys: string[];
  readonly args: string[];
}

/** One publish's Redis traffic, as the producer makes it (see the file comment). */
export interface Unit {
  readonly begin: ScriptCall;
  readonly cacheKey: string;
  readonly cacheValue: string;
  readonly lockKey: string;
  readonly counterKey: string;
  readonly finish: ScriptCall;
}

/** What a way does per unit; both ways implement it with their own client. */
export interface Client {
  evalshaScript(call: ScriptCall): Promise<unknown>;
  get(key: string): Promise<unknown>;
  setNxPx(key: string, value: string, ms: number): Promise<unknown>;
  incr(key: string): Promise<unknown>;
  setEx(key: string, value: string, seconds: number): Promise<unknown>;
}

const sha1 = (text: string) => createHash("sha1").update(text, "utf8").digest("hex");

/**
 * Records what `RedisDedupStore` sends for a one-event publish (begin with the request's rate
 * limit, finish with one receipt) through a stand-in for the Upstash client that only records.
 * The store sends its scripts by SHA-1 and their text only after `NOSCRIPT`; the stand-in answers
 * `NOSCRIPT` to a SHA-1 it has not seen the text of, so it learns each script's text once.
 */
async function recordDedupCalls(run: string, count: number): Promise<Pick<Unit, "begin" | "finish">[]> {
  let captured: { sha: string; keys: string[]; args: string[] } | undefined;
  const scripts = new Map<string, string>();
  // The begin reply of an admitted request whose event is new; finish ignores its reply.
  const reply = [["admitted", 1_000_000], ["created"]];
  const recorder = {
    evalsha: async (sha: string, keys: string[], args: (string | number)[]) => {
      if (!scripts.has(sha)) throw new Error("NOSCRIPT No matching script. Please use EVAL.");
      captured = { sha, keys, args: args.map(String) };
      return reply;
    },
    eval: async (script: string, keys: string[], args: (string | number)[]) => {
      const sha = sha1(script);
      scripts.set(sha, script);
      captured = { sha, keys, args: args.map(String) };
      return reply;
    },
  };
  const store = new RedisDedupStore(recorder as never, `${PREFIX}:dedup`);
  const calls: Pick<Unit, "begin" | "finish">[] = [];
  const take = (): ScriptCall => {
    if (captured === undefined) throw new Error("the dedup store sent nothing");
    const { sha, keys, args } = captured;
    captured = undefined;
    const script = scripts.get(sha);
    if (script === undefined) throw new Error(`the dedup store sent a script it never sent the text of (${sha})`);
    return { script, sha, keys, args };
  };
  for (let i = 0; i < count; i++) {
    const key = `/gov/bench:${run}-${i}`;
    const holder = `holder-${run}-${i}`;
    await store.beginMany([{ key, holder, plan: ["queue:citizen-sync", "kafka:gov.bench.citizen"] }], {
      firstSeenAt: new Date().toISOString(),
      leaseMs: 30_000,
      admission: {
        keyId: `key-${i % 16}`,
        limit: { requests: 1_000_000_000, window_seconds: 60 },
        cost: 1,
      },
    });
    const begin = take();
    // ARGV[8] of the begin script is the record's TTL (a day in the producer).
    begin.args[7] = String(RECORD_TTL_SECONDS);
    await store.finishMany([
      {
        key,
        holder,
        complete: true,
        delivered: { "queue:citizen-sync": { destination: "queue:citizen-sync", partition: null, offset: null } },
      },
    ]);
    calls.push({ begin, finish: take() });
  }
  return calls;
}

/**
 * `count` units of the producer's Redis traffic (fresh dedup keys per `run`); the bridge soak
 * sends them too.
 */
export async function buildUnits(run: string, count: number): Promise<Unit[]> {
  const dedup = await recordDedupCalls(run, count);
  return dedup.map((calls, i) => ({
    ...calls,
    cacheKey: `${PREFIX}:cache:${i % 1000}`,
    cacheValue: JSON.stringify({ citizenId: `citizen-${i % 5000}`, version: i, note: "x".repeat(120) }),
    lockKey: `${PREFIX}:lock:${run}:${i}`,
    counterKey: `${PREFIX}:count:${i % 100}`,
  }));
}

/** Loads the units' scripts into Redis's script cache, through `load` (`SCRIPT LOAD`). */
export async function loadUnitScripts(load: (script: string) => Promise<unknown>): Promise<void> {
  const [sample] = await buildUnits("load", 1);
  if (sample === undefined) throw new Error("no unit to take the scripts from");
  await load(sample.begin.script);
  await load(sample.finish.script);
}

/**
 * One unit: the begin script, then the four cache commands at once, then the finish script; the
 * scripts by SHA-1, so Redis must hold them first (`loadUnitScripts`).
 */
export async function runUnit(client: Client, unit: Unit): Promise<void> {
  await client.evalshaScript(unit.begin);
  await Promise.all([
    client.get(unit.cacheKey),
    client.setNxPx(unit.lockKey, "holder", 30_000),
    client.incr(unit.counterKey),
    client.setEx(unit.cacheKey, unit.cacheValue, RECORD_TTL_SECONDS),
  ]);
  await client.evalshaScript(unit.finish);
}

/**
 * Runs every unit with `callers` in flight; throughput in commands, latency per unit, and this
 * process's CPU (user + system) per command, which other load on the machine hardly moves.
 */
async function measureUnits(
  units: readonly Unit[],
  callers: number,
  client: Client,
): Promise<BatchFigures & { cpu_us_per_command: number }> {
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < units.length) {
        const unit = units[next++] as Unit;
        const t0 = performance.now();
        await runUnit(client, unit);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const commands = units.length * COMMANDS_PER_UNIT;
  return {
    cpu_us_per_command: round((cpu.user + cpu.system) / commands, 2),
    messages: commands,
    seconds: round(seconds, 3),
    messages_per_second: Math.round(commands / seconds),
    batch_latency_ms: { p50: round(percentile(latencies, 50), 1), p99: round(percentile(latencies, 99), 1) },
  };
}

export function upstashClient(redis: UpstashRedis): Client {
  return {
    evalshaScript: (call) => redis.evalsha(call.sha, call.keys, call.args),
    get: (key) => redis.get(key),
    setNxPx: (key, value, ms) => redis.set(key, value, { nx: true, px: ms }),
    incr: (key) => redis.incr(key),
    setEx: (key, value, seconds) => redis.set(key, value, { ex: seconds }),
  };
}

function ioredisClient(redis: IORedis): Client {
  return {
    evalshaScript: (call) => redis.evalsha(call.sha, call.keys.length, ...call.keys, ...call.args),
    get: (key) => redis.get(key),
    setNxPx: (key, value, ms) => redis.set(key, value, "PX", ms, "NX"),
    incr: (key) => redis.incr(key),
    setEx: (key, value, seconds) => redis.set(key, value, "EX", seconds),
  };
}

/**
 * Counts the writes that reach `redis`'s socket (`_write`/`_writev`: a pipeline, or commands
 * written while the socket is corked, go out as one; each write waits for its replies): the Redis
 * round trips.
 */
function countSocketWrites(redis: IORedis): () => number {
  let writes = 0;
  const counted = new WeakSet<object>();
  type Writer = (...args: unknown[]) => unknown;
  const patch = () => {
    const stream = (redis as unknown as { stream?: Record<"_write" | "_writev", Writer | undefined> }).stream;
    if (stream === undefined || counted.has(stream)) return;
    counted.add(stream);
    for (const method of ["_write", "_writev"] as const) {
      const original = stream[method];
      if (typeof original !== "function") continue;
      stream[method] = (...args: unknown[]) => {
        writes++;
        return original.apply(stream, args);
      };
    }
  };
  patch();
  redis.on("connect", patch);
  return () => writes;
}

/**
 * The gateway's restricted ACL user (keys `edgebus:bench:*`), or the URL's own user (with a note)
 * where it cannot be made; `drop` deletes it.
 */
export async function gatewayUser(redisUrl: string, log: (line: string) => void) {
  const username = `edgebus-bench-${stamp}-${randomBytes(3).toString("hex")}`;
  const password = randomBytes(24).toString("hex");
  const admin = new IORedis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  admin.on("error", () => undefined);
  try {
    await admin.connect();
    await createGatewayAclUser(admin, username, password, {
      keyPatterns: ["edgebus:bench:*"],
      db: redisUrlParts(redisUrl).db,
    });
  } catch (error) {
    log(`cannot create an ACL user (${error instanceof Error ? error.message : String(error)}); unrestricted`);
    return { url: redisUrl, restricted: false, drop: async () => undefined };
  } finally {
    admin.disconnect();
  }
  return {
    url: redisUrlAs(redisUrl, username, password),
    restricted: true,
    drop: async () => {
      const cleanup = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
      cleanup.on("error", () => undefined);
      try {
        await cleanup.call("ACL", "DELUSER", username);
      } finally {
        cleanup.disconnect();
      }
    },
  };
}

/** Counts of one served gateway: HTTP requests it answered and writes on its Redis socket. */
interface GatewayCounts {
  readonly http: number;
  readonly redis: number;
}

/**
 * The bridge's Redis REST gateway served on 127.0.0.1 as `bridges/server.ts` serves it (the
 * client's forms on the lean routes, everything else on Hono), connected as `redisUrl`'s user,
 * counting HTTP requests and Redis socket writes.
 */
async function serveGateway(parameters: { redisUrl: string; restricted: boolean; token: string }) {
  const gateway = await openGatewayRedis({ url: parameters.redisUrl, allowUnrestrictedUser: !parameters.restricted });
  let httpRequests = 0;
  const app = new Hono();
  app.use("/redis/*", async (_c, next) => {
    httpRequests++;
    await next();
  });
  const rest = createRedisRestGateway({
    redis: gateway.redis,
    userGuard: gateway.guard,
    token: parameters.token,
    subscriptions: false,
    allowUnrestrictedUser: !parameters.restricted,
  });
  app.route("/redis", rest.app);
  const leanRoutes = rest.leanRoutes("/redis").map(
    (route): LeanRoute => ({
      ...route,
      handle: (request) => {
        httpRequests++;
        return route.handle(request);
      },
    }),
  );
  const server = await serveLocally(app, leanRoutes);
  // The gateway's own connection carries only its user check; pipelines go on the runner's.
  const guardWrites = countSocketWrites(gateway.redis);
  await gateway.redis.ping();
  return {
    url: server.url,
    counts: (): GatewayCounts => ({ http: httpRequests, redis: guardWrites() + rest.pipelineWrites() }),
    async close() {
      await server.close();
      await gateway.redis.quit().catch(() => gateway.redis.disconnect());
    },
  };
}

/** The same gateway in its own process (`bridge-process.ts`), as deployed: the clients are Workers. */
export const benchGatewayProcess: BenchBridgeFactory = async (parameters) => {
  const gateway = await serveGateway(parameters as { redisUrl: string; restricted: boolean; token: string });
  return {
    url: gateway.url,
    requestsSent: () => 0,
    counters: () => ({ ...gateway.counts() }),
    close: () => gateway.close(),
  };
};

/**
 * The client's ceiling: an HTTP server that answers `@upstash/redis`'s pipelines at once with
 * replies of the shapes Redis gives these commands (base64 as the gateway sends them), without
 * Redis or any gateway work. What the client and HTTP alone allow, in its own process like the
 * gateway: no gateway, however lean, can take the client past this rate.
 */
export const benchCannedReplies: BenchBridgeFactory = async () => {
  const replyFor = (name: string, numberOfKeys: string): JsonReply => {
    const lower = name.toLowerCase();
    // The begin script (four keys) answers its admission and the event's state; finish answers 1.
    if (lower === "evalsha" && numberOfKeys === "4")
      return encodeReply([[Buffer.from("admitted"), 1_000_000], [Buffer.from("created")]], true);
    if (lower === "evalsha" || lower === "incr") return 1;
    if (lower === "get")
      return encodeReply(
        Buffer.from(JSON.stringify({ citizenId: "citizen-1", version: 1, note: "x".repeat(120) })),
        true,
      );
    return encodeReply(Buffer.from("OK"), true);
  };
  let httpRequests = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      httpRequests++;
      const commands = JSON.parse(Buffer.concat(chunks).toString("utf8")) as string[][];
      const body = JSON.stringify(
        commands.map((command) => ({ result: replyFor(String(command[0]), String(command[2])) })),
      );
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requestsSent: () => 0,
    counters: () => ({ http: httpRequests, redis: 0 }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
};

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size: Size = context.quick ? QUICK : FULL;
  const user = await gatewayUser(context.redisUrl, context.log);
  const token = randomBytes(24).toString("hex");
  const gatewayParameters = { redisUrl: user.url, restricted: user.restricted, token };
  const inProcessGateway = await serveGateway(gatewayParameters);
  // The deployment's shape: the gateway alone in its process, the client (a Worker) elsewhere.
  const gatewayProcess = await forkBridge(
    new URL("./redis-rest.ts", import.meta.url).href,
    "benchGatewayProcess",
    gatewayParameters,
  );
  const cannedProcess = await forkBridge(new URL("./redis-rest.ts", import.meta.url).href, "benchCannedReplies", {});
  const upstashAt = (url: string) =>
    new UpstashRedis({
      url: `${url}/redis`,
      token,
      enableAutoPipelining: true,
      enableTelemetry: false,
      retry: { retries: 0 },
    });
  const upstash = upstashAt(inProcessGateway.url);
  const upstashToProcess = upstashAt(gatewayProcess.url);
  const upstashToCanned = upstashAt(cannedProcess.url);
  const direct = new IORedis(context.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
  const directWrites = countSocketWrites(direct);
  await direct.ping();

  // Every way sends the scripts by SHA-1 and sees the same Redis script cache.
  await loadUnitScripts((script) => direct.script("LOAD", script));

  let runNumber = 0;
  const counts: Record<string, { commands: number; http: number; redis: number }> = {};
  /** Per run: this process's CPU per command, and the gateway process's for the process way. */
  const cpuPerCommand: Record<string, number[]> = {
    gateway: [],
    "gateway process": [],
    "client ceiling": [],
    direct: [],
  };
  const gatewayProcessCpu: number[] = [];
  const countedGatewayWay =
    (name: string, client: UpstashRedis, gatewayCounts: () => Promise<GatewayCounts>) => async () => {
      const units = await buildUnits(`g${runNumber++}`, size.units);
      const before = await gatewayCounts();
      const figures = await measureUnits(units, size.callers, upstashClient(client));
      const after = await gatewayCounts();
      const entry = counts[name] ?? { commands: 0, http: 0, redis: 0 };
      entry.commands += figures.messages;
      entry.http += after.http - before.http;
      entry.redis += after.redis - before.redis;
      counts[name] = entry;
      cpuPerCommand[name]?.push(figures.cpu_us_per_command);
      return figures;
    };
  const processCounts = async (): Promise<GatewayCounts> => {
    const { http = 0, redis = 0 } = await gatewayProcess.counters();
    return { http, redis };
  };
  const ways: Record<string, () => Promise<BatchFigures>> = {
    gateway: countedGatewayWay("gateway", upstash, async () => inProcessGateway.counts()),
    "gateway process": async () => {
      const cpuBefore = await gatewayProcess.cpuMicros();
      const figures = await countedGatewayWay("gateway process", upstashToProcess, processCounts)();
      gatewayProcessCpu.push(round(((await gatewayProcess.cpuMicros()) - cpuBefore) / figures.messages, 2));
      return figures;
    },
    "client ceiling": countedGatewayWay("client ceiling", upstashToCanned, async () => {
      const { http = 0 } = await cannedProcess.counters();
      return { http, redis: 0 };
    }),
    direct: async () => {
      const units = await buildUnits(`d${runNumber++}`, size.units);
      const redis0 = directWrites();
      const figures = await measureUnits(units, size.callers, ioredisClient(direct));
      const entry = counts.direct ?? { commands: 0, http: 0, redis: 0 };
      entry.commands += figures.messages;
      entry.redis += directWrites() - redis0;
      counts.direct = entry;
      cpuPerCommand.direct?.push(figures.cpu_us_per_command);
      return figures;
    },
  };
  const runs = await bestOfInterleaved(ways, {
    runs: size.runs,
    messages: size.units * COMMANDS_PER_UNIT,
    unit: "commands",
    pad: 15,
    log: (line) => context.log(line),
  });

  // Where the time goes: one more run of each way under the V8 profiler. In-process, client and
  // gateway share this process, so that profile holds both sides (@upstash/redis, fetch, the
  // bridge); the process way's is the gateway process's profile alone.
  const cpu_profiles: Record<string, ProfileSummary> = {};
  for (const name of ["gateway", "gateway process", "direct"] as const) {
    const units = await buildUnits(`p-${name.replace(" ", "-")}`, size.units);
    context.log(`${name}: profiled run, ${size.units * COMMANDS_PER_UNIT} commands`);
    if (name === "gateway process") {
      cpu_profiles[name] = await gatewayProcess.profile(async () => {
        await measureUnits(units, size.callers, upstashClient(upstashToProcess));
      });
      continue;
    }
    const client = name === "gateway" ? upstashClient(upstash) : ioredisClient(direct);
    cpu_profiles[name] = await profileCpu(async () => {
      await measureUnits(units, size.callers, client);
    });
  }

  const per1000 = (n: number, commands: number) => round((1000 * n) / commands, 1);
  const rate = (name: string) => runs[name]?.messages_per_second ?? Number.NaN;
  const medianRate = (name: string) => Math.round(median(runs[name]?.runs ?? []));
  const [gatewayRate, processRate, ceilingRate, directRate] = [
    rate("gateway"),
    rate("gateway process"),
    rate("client ceiling"),
    rate("direct"),
  ];
  const tripsOf = (name: string) => ({
    http_requests: per1000(counts[name]?.http ?? 0, counts[name]?.commands ?? 1),
    redis_writes: per1000(counts[name]?.redis ?? 0, counts[name]?.commands ?? 1),
  });
  const inProcessTrips = tripsOf("gateway");
  const processTrips = tripsOf("gateway process");
  const round_trips_per_1000_commands = {
    gateway_http_requests: inProcessTrips.http_requests,
    gateway_redis_writes: inProcessTrips.redis_writes,
    gateway_process_http_requests: processTrips.http_requests,
    gateway_process_redis_writes: processTrips.redis_writes,
    direct_redis_writes: per1000(counts.direct?.redis ?? 0, counts.direct?.commands ?? 1),
  };
  const cpuMedian = (values: readonly number[] | undefined) => round(median(values ?? []), 2);
  const results = {
    ...runs,
    median_commands_per_second: {
      gateway: medianRate("gateway"),
      "gateway process": medianRate("gateway process"),
      "client ceiling": medianRate("client ceiling"),
      direct: medianRate("direct"),
    },
    round_trips_per_1000_commands,
    // In-process, client and gateway share this process: the gateway way's figure holds both
    // sides. The process way's client figure is the @upstash/redis client alone.
    process_cpu_us_per_command_median: {
      gateway: cpuMedian(cpuPerCommand.gateway),
      "gateway process": {
        clients_process: cpuMedian(cpuPerCommand["gateway process"]),
        gateway_process: cpuMedian(gatewayProcessCpu),
      },
      "client ceiling": cpuMedian(cpuPerCommand["client ceiling"]),
      direct: cpuMedian(cpuPerCommand.direct),
    },
    cpu_profiles,
  };
  const report: BenchmarkReport = {
    parameters: {
      units_per_run: size.units,
      commands_per_unit: COMMANDS_PER_UNIT,
      commands_per_run: size.units * COMMANDS_PER_UNIT,
      callers: size.callers,
      runs: size.runs,
      unit: "EVALSHA dedup begin (rate limit + lease + record) → GET, SET NX PX, INCR, SET EX at once → EVALSHA dedup finish",
      gateway_user: user.restricted ? "restricted ACL user (as deployed)" : "REDIS_URL's own user (unrestricted)",
      rest_client: `@upstash/redis ${packageVersion("@upstash/redis")} (enableAutoPipelining, base64 responses)`,
      redis_client: `ioredis ${packageVersion("ioredis")} (enableAutoPipelining)`,
    },
    results,
    ratios: {
      gateway_vs_direct: round(gatewayRate / directRate, 2),
      gateway_vs_direct_median: round(medianRate("gateway") / medianRate("direct"), 2),
      gateway_process_vs_direct: round(processRate / directRate, 2),
      gateway_process_vs_direct_median: round(medianRate("gateway process") / medianRate("direct"), 2),
      client_ceiling_vs_direct: round(ceilingRate / directRate, 2),
      gateway_process_vs_client_ceiling: round(processRate / ceilingRate, 2),
      direct_vs_gateway_process_cpu_per_command: round(
        median(cpuPerCommand.direct ?? []) / median(cpuPerCommand.gateway ?? []),
        2,
      ),
    },
    table: [
      rateRow(
        "Redis REST gateway (@upstash/redis auto-pipelined), gateway in its own process as deployed, vs ioredis pipelined directly, producer dedup mix (commands/s)",
        processRate,
        { value: directRate, label: "direct" },
        { headline: true },
      ),
      rateRow(
        "@upstash/redis against canned replies (no gateway, no Redis) vs ioredis pipelined directly: the client's ceiling (commands/s)",
        ceilingRate,
        { value: directRate, label: "direct" },
      ),
      rateRow("Redis REST gateway in its own process vs that ceiling (commands/s)", processRate, {
        value: ceilingRate,
        label: "client ceiling",
      }),
      rateRow(
        "Redis REST gateway, client and gateway in one process, vs ioredis pipelined directly (commands/s)",
        gatewayRate,
        { value: directRate, label: "direct" },
      ),
      {
        figure:
          "CPU per command (µs): the gateway process; the @upstash/redis client's process — vs ioredis's process for the same commands",
        ours: `${cpuMedian(gatewayProcessCpu)}; ${cpuMedian(cpuPerCommand["gateway process"])}`,
        baseline: `${cpuMedian(cpuPerCommand.direct)} (direct)`,
        ratio: `${round(cpuMedian(cpuPerCommand.direct) / cpuMedian(gatewayProcessCpu), 2)}× (direct ÷ gateway)`,
      },
      {
        figure: "Redis REST gateway round trips per 1,000 commands (HTTP requests; Redis writes)",
        ours: `${round_trips_per_1000_commands.gateway_process_http_requests}; ${round_trips_per_1000_commands.gateway_process_redis_writes}`,
        baseline: `direct: –; ${round_trips_per_1000_commands.direct_redis_writes}`,
        ratio: "–",
      },
    ],
    chart: {
      title: "Bridge Redis REST gateway vs the same commands sent with ioredis directly",
      subtitle: `${size.units * COMMANDS_PER_UNIT} commands (${size.units} producer dedup units), ${size.callers} callers, both clients auto-pipelining; best of ${size.runs}`,
      panels: [
        {
          title: "command rate, best run",
          unit: "commands/s",
          groups: [
            {
              label: "Redis",
              bars: [
                { label: "REST gateway, own process", value: processRate, role: "ours" },
                { label: "REST gateway, in-process", value: gatewayRate, role: "ours" },
                { label: "client vs canned replies", value: ceilingRate, role: "baseline" },
                { label: "ioredis direct", value: directRate, role: "baseline" },
              ],
            },
          ],
        },
        {
          title: "unit latency of the best run (3 sequential steps)",
          unit: "ms",
          groups: (["gateway process", "gateway", "direct"] as const).map((name) => ({
            label: name,
            bars: (["p50", "p99"] as const).map((p) => ({
              label: p,
              value: runs[name]?.batch_latency_ms[p] ?? Number.NaN,
              role: name === "direct" ? ("baseline" as const) : ("ours" as const),
            })),
          })),
        },
        {
          title: "round trips per 1,000 commands",
          unit: "count",
          groups: [
            {
              label: "gateway (own process)",
              bars: [
                { label: "HTTP requests", value: processTrips.http_requests, role: "ours" },
                { label: "Redis writes", value: processTrips.redis_writes, role: "ours" },
              ],
            },
            {
              label: "direct",
              bars: [
                { label: "Redis writes", value: round_trips_per_1000_commands.direct_redis_writes, role: "baseline" },
              ],
            },
          ],
        },
      ],
    },
    notes: [
      "everything on one machine: Redis, the gateway and both clients share the same 2 cores; compare ratios within one run, not figures across runs",
      "the headline is the gateway in its own process (bench/bridge-process.ts), as deployed: its clients are Workers at the edge, whose @upstash/redis and fetch never run on the bridge's event loop; the in-process way (client and gateway in this process) is reported beside it",
      "runs are interleaved (gateway, gateway process, direct, gateway, …); best of the runs (median beside it in results.median_commands_per_second)",
      "the dedup scripts, keys and arguments are recorded from the producer's RedisDedupStore; only the record TTL is shortened to 10 minutes",
      "process_cpu_us_per_command_median: this process's user + system CPU per command over each run (median of the runs); the in-process gateway way's holds the @upstash/redis client and the gateway, the process way's is split into this process (the client alone) and the gateway process, the direct way's ioredis",
      "round_trips_per_1000_commands: HTTP requests the client made, and socket writes on the Redis connection (one per pipeline or unpipelined command)",
      "cpu_profiles: one extra run of each way under the V8 profiler; in-process, client and gateway together; for the process way, the gateway process alone",
    ],
  };
  await inProcessGateway.close();
  await gatewayProcess.close();
  await cannedProcess.close();
  direct.disconnect();
  await user.drop();
  return report;
}

export const redisRestBenchmark: Benchmark = {
  name: "redis-rest",
  title: "Bridge Redis REST gateway (@upstash/redis auto-pipelined) vs ioredis pipelined directly",
  run,
};
