/**
 * The chaos suite's own copy of every server, isolated from the machine's shared ones so that
 * restarting them hurts nobody else:
 *
 * - Postgres: a temporary cluster (`initdb` from /usr/lib/postgresql/<v>/bin) on 25432, run as
 *   the `postgres` user when this process is root (Postgres refuses root);
 * - Kafka: a three-broker cluster from `scripts/kafka.sh` on 19092–19094 with its own state folder;
 * - the bridge: its own process (Kafka REST, mirror ingest with `gov.*` → `onprem.gov.*` so the
 *   mirrored copy is told apart from the producer's direct publish, Redis REST on a Redis db of
 *   its own), so it can be SIGKILLed and started again on the same port;
 * - everything else from `npm run dev --bridge-url`: every Worker in one `wrangler dev`, the
 *   local notification provider, migrations.
 *
 * The Workers, the bridge and `npm run dev` run from a snapshot of the code taken at start
 * (the working tree by default, `EDGEBUS_CHAOS_SOURCE=head` for the last commit): `wrangler dev`
 * reloads on every file change, and a reload drops the local queues' in-memory messages, so
 * edits in the checkout during a run would show up as losses that no deployment has.
 *
 * `start()` brings it all up, `stop()` takes down exactly what it started.
 */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bridgeProcessArgs } from "../../bridges/v8-tuning.ts";
import { canConnect } from "../../scripts/service-probe.ts";
import { scrubbedEnv } from "../support/child-env.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../support/redis-gateway-user.ts";
import {
  brokerPorts,
  CHAOS_QUEUE,
  CHAOS_STREAM,
  type PrivateBroker,
  privateNats,
  privateRabbitMq,
  stopAbandonedBrokers,
} from "./broker-targets.ts";

const run = promisify(execFile);
const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** What the stack runs: the snapshot's folder once `snapshotCode` ran. */
let root = checkout;

/** Folders and files the Workers, the bridge and scripts/dev.ts need. */
const SNAPSHOT_PATHS = [
  "workers",
  "shared",
  "schemas",
  "bridges",
  "scripts",
  "migrations",
  "test/support",
  "wrangler.toml",
  "package.json",
  "tsconfig.json",
];

/** Copies the code into `target` (node_modules linked) and runs everything from there. */
async function snapshotCode(target: string, source: "worktree" | "head"): Promise<void> {
  await mkdir(target, { recursive: true });
  if (source === "head") {
    const { stdout } = await run("git", ["-C", checkout, "rev-parse", "HEAD"]);
    await run("sh", ["-c", `git -C '${checkout}' archive HEAD ${SNAPSHOT_PATHS.join(" ")} | tar -x -C '${target}'`]);
    log(`code: commit ${stdout.trim().slice(0, 10)} (snapshot in ${target})`);
  } else {
    const skip = /(^|\/)(node_modules|\.wrangler|\.dev-data|\.cache)(\/|$)/;
    for (const item of SNAPSHOT_PATHS) {
      await cp(path.join(checkout, item), path.join(target, item), {
        recursive: true,
        filter: (from) => !skip.test(path.relative(checkout, from)),
      });
    }
    log(`code: working tree as of now (snapshot in ${target})`);
  }
  await symlink(path.join(checkout, "node_modules"), path.join(target, "node_modules"));
  root = target;
}

/** The ports one chaos run listens on (Kafka: `kafka`..`kafka + 2`, controllers `controller`..+2). */
export interface ChaosPorts {
  postgres: number;
  kafka: number;
  controller: number;
  producer: number;
  bridge: number;
  provider: number;
}

/** The first choice; README and logs name these. */
export const DEFAULT_CHAOS_PORTS: ChaosPorts = {
  // Every port sits below Linux's ephemeral range (32768–60999): inside it, any outgoing
  // connection (the bridge's to Kafka, a broker's to another) may hold one as its source port for
  // the whole run, and the server that wants it fails with "address in use". 39092-39094
  // (kafka.sh's default controllers) and the earlier 38710-38714 and 55432 were lost that way.
  postgres: 25432,
  kafka: 19092,
  controller: 29392,
  producer: 24710,
  bridge: 24711,
  provider: 24712,
};

/** Every port a layout listens on: the six named ones, the brokers' extra ones and the broker targets'. */
export function everyPort(ports: ChaosPorts): number[] {
  const { kafka, controller, ...single } = ports;
  const brokers = Object.values(brokerPorts(ports.bridge));
  return [
    ...Object.values(single),
    kafka,
    kafka + 1,
    kafka + 2,
    controller,
    controller + 1,
    controller + 2,
    ...brokers,
  ];
}

/**
 * The default ports when all of them are free, otherwise the same layout shifted by a multiple of
 * 10 until every one is free: a leftover process (a developer's `npm run dev`, a kept stack of an
 * earlier run) must not fail the run. Throws, naming the busy ports, when 20 shifts found none.
 */
export async function chooseChaosPorts(base: ChaosPorts = DEFAULT_CHAOS_PORTS): Promise<ChaosPorts> {
  const busyOf = async (ports: ChaosPorts) => {
    const busy: number[] = [];
    for (const port of everyPort(ports)) if (await canConnect("127.0.0.1", port, 300)) busy.push(port);
    return busy;
  };
  const firstBusy = await busyOf(base);
  if (firstBusy.length === 0) return base;
  log(`ports ${firstBusy.join(", ")} are in use: looking for a free set`);
  for (let shift = 1; shift <= 20; shift++) {
    const step = shift * 10;
    const ports: ChaosPorts = {
      postgres: base.postgres + step,
      kafka: base.kafka + step,
      controller: base.controller + step,
      producer: base.producer + step,
      bridge: base.bridge + step,
      provider: base.provider + step,
    };
    if ((await busyOf(ports)).length === 0) return ports;
  }
  throw new Error(`chaos ports ${firstBusy.join(", ")} are in use and no shifted set of ports was free`);
}

/** The chaos bridge's Redis database: dedup and rate-limit keys stay away from everyone else's. */
const REDIS_DB = 13;

export interface ChaosStackInfo {
  producer: string;
  apiKey: string;
  providerUrl: string;
  databaseUrl: string;
  kafkaBrokers: string[];
  bridgeUrl: string;
  /** The private NATS (JetStream) and RabbitMQ the bridge also mirrors into. */
  brokerPorts: { nats: number; amqp: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function log(message: string): void {
  console.log(`chaos: ${message}`);
}

/** The newest Postgres server binaries on this machine, or undefined. */
export function postgresBinDir(): string | undefined {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(path.join(base, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(base, versions[0], "bin");
}

export async function hasJava(): Promise<boolean> {
  try {
    await run("sh", ["-c", "command -v java"]);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` (errors count as "not yet"); `gaveUp` names a reason to stop waiting at once. */
async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  gaveUp: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    const reason = gaveUp();
    if (reason) throw new Error(`${what}: ${reason}`);
    await sleep(250);
  }
  throw new Error(`${what} not ready within ${timeoutMs / 1000}s`);
}

/**
 * Why a child gave up, with the end of its log: CI keeps the test output, not the work folder,
 * so the reason has to travel in the error itself.
 */
function exitedWithLog(code: number | null, logFile: string, lines = 40): string {
  let tail = "";
  try {
    tail = readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch (error) {
    tail = `(could not read the log: ${error instanceof Error ? error.message : String(error)})`;
  }
  return `exited with ${code}; the last lines of ${logFile}:\n${tail}`;
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return response.status < 500;
}

/** A temporary Postgres cluster; `restart()` is an immediate (crash-like) stop and a start. */
class TempPostgres {
  readonly #bin: string;
  readonly #dir: string;
  readonly #port: number;
  readonly #asPostgresUser = process.getuid?.() === 0;

  constructor(bin: string, dir: string, port: number) {
    this.#bin = bin;
    this.#dir = dir;
    this.#port = port;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.#port}/edgebus`;
  }

  async #pg(tool: string, args: string[]): Promise<void> {
    const command = path.join(this.#bin, tool);
    if (this.#asPostgresUser) await run("runuser", ["-u", "postgres", "--", command, ...args], { cwd: "/" });
    else await run(command, args);
  }

  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    if (this.#asPostgresUser) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      await chown(this.#dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await chmod(this.#dir, 0o700);
    await this.#pg("initdb", ["-D", this.#dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"]);
    // Durability against a process crash needs no fsync (the OS keeps the pages); it saves the disk.
    await writeFile(
      path.join(this.#dir, "postgresql.auto.conf"),
      [
        `port = ${this.#port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${this.#dir}'`,
        "fsync = off",
        "max_connections = 200",
        "shared_buffers = 128MB",
        "",
      ].join("\n"),
      { flag: "a" },
    );
    await this.start();
    await this.#pg("createdb", ["-h", "127.0.0.1", "-p", String(this.#port), "-U", "postgres", "edgebus"]);
  }

  async start(): Promise<void> {
    await this.#pg("pg_ctl", ["-D", this.#dir, "-l", path.join(this.#dir, "server.log"), "-w", "-t", "60", "start"]);
  }

  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    await this.#pg("pg_ctl", ["-D", this.#dir, "-m", mode, "-w", "-t", "60", "stop"]);
  }

  async restart(): Promise<void> {
    await this.stop("immediate");
    await this.start();
  }
}

/** `scripts/kafka.sh` against the chaos cluster's port range and state folder. */
class ChaosKafka {
  readonly #env: NodeJS.ProcessEnv;
  /** kafka.sh's state folder (broker-N/kafka.pid, server.log). */
  readonly state: string;
  readonly #port: number;

  constructor(state: string, port: number, controllerPort: number) {
    this.state = state;
    this.#port = port;
    this.#env = {
      ...process.env,
      EDGEBUS_KAFKA_PORT: String(port),
      EDGEBUS_KAFKA_STATE: state,
      EDGEBUS_KAFKA_CONTROLLER_PORT: String(controllerPort),
      // Three JVMs on a busy 2-core machine can need minutes; a slow start is not what is tested.
      EDGEBUS_KAFKA_READY_TIMEOUT: process.env.EDGEBUS_KAFKA_READY_TIMEOUT ?? "300",
    };
  }

  get brokers(): string[] {
    return [0, 1, 2].map((n) => `127.0.0.1:${this.#port + n}`);
  }

  async script(...args: string[]): Promise<void> {
    await run("bash", [path.join(root, "scripts/kafka.sh"), ...args], {
      env: this.#env,
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
  }
}

/** The bridge as a child process that the suite can SIGKILL and start again. */
class BridgeProcess {
  readonly #env: NodeJS.ProcessEnv;
  readonly #configFile: string;
  readonly #logFile: string;
  readonly #port: number;
  #child: ChildProcess | undefined;

  constructor(env: NodeJS.ProcessEnv, configFile: string, logFile: string, port: number) {
    this.#port = port;
    this.#env = env;
    this.#configFile = configFile;
    this.#logFile = logFile;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    const { openSync } = await import("node:fs");
    const out = openSync(this.#logFile, "a");
    this.#child = spawn(process.execPath, bridgeProcessArgs(this.#configFile), {
      cwd: root,
      env: this.#env,
      stdio: ["ignore", out, out],
    });
    const child = this.#child;
    if (child.pid !== undefined) await writeFile(`${this.#logFile}.pid`, String(child.pid));
    await waitFor(
      "the bridge",
      () => httpOk(`${this.url}/healthz`),
      90_000,
      () => (child.exitCode === null ? undefined : exitedWithLog(child.exitCode, this.#logFile)),
    );
  }

  /** SIGKILL: no flush, no goodbye; resolves when the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

const secret = () => randomBytes(24).toString("base64url");

/** In each work folder: `{pid}` of the run that owns it, or `{kept: true}` once a failed run stopped. */
const OWNER_FILE = "owner.json";
const WORK_PARENTS = () => [...new Set([tmpdir(), "/tmp", "/var/tmp"])];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone meanwhile
  }
}

/** Whether `pid` is alive and its command line holds `fragment` (never signal a reused pid). */
async function runs(pid: number, fragment: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmdline.split("\0").some((arg) => arg.includes(fragment));
}

/** The folder's owner file; a missing or unreadable one (cut short by a kill) reads as no owner. */
async function readOwner(dir: string): Promise<{ pid?: number; kept?: boolean }> {
  try {
    return JSON.parse(await readFile(path.join(dir, OWNER_FILE), "utf8")) as { pid?: number; kept?: boolean };
  } catch {
    return {};
  }
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/**
 * Stops what an earlier run left behind when it died without `stop()` (its test process was
 * SIGKILLed, the machine's session ended): Postgres and the Kafka brokers are daemons and would
 * otherwise keep their ports, memory and CPU. A folder whose owner is alive, or that a failed run
 * kept for its logs (its servers already stopped), is left alone; an abandoned one is stopped and
 * deleted.
 */
async function reapAbandonedStacks(pgBin: string): Promise<void> {
  for (const parent of WORK_PARENTS()) {
    const names = existsSync(parent) ? readdirSync(parent).filter((name) => name.startsWith("edgebus-chaos-")) : [];
    for (const name of names) {
      const dir = path.join(parent, name);
      const owner = await readOwner(dir);
      if (owner.kept || (owner.pid !== undefined && isAlive(owner.pid))) continue;
      // No owner file: a run that died before writing it, or one of a version that wrote none. Only
      // a run holding the chaos lock (so no other run is active) may stop its servers; it keeps
      // the folder (it may hold the only logs of that run).
      if (owner.pid === undefined && process.env.EDGEBUS_CHAOS_LOCK_HELD !== "1") continue;
      log(
        owner.pid === undefined
          ? `stopping servers left in ${dir} (no owner recorded)`
          : `reaping ${dir}: its run (pid ${owner.pid}) is gone but left servers behind`,
      );
      // dev.ts stops its own children (wrangler, the bridge it started) on SIGTERM; it also stops
      // by itself once it notices its parent is gone, so usually it is gone already.
      const devPid = await readPid(path.join(dir, "dev.pid"));
      if (devPid !== undefined && (await runs(devPid, "scripts/dev.ts"))) {
        signal(-devPid, "SIGTERM");
        for (let waited = 0; waited < 20_000 && isAlive(devPid); waited += 250) await sleep(250);
        if (isAlive(devPid)) signal(-devPid, "SIGKILL");
      }
      await stopAbandonedBrokers(dir);
      const bridgePid = await readPid(path.join(dir, "bridge.log.pid"));
      if (bridgePid !== undefined && (await runs(bridgePid, "bridges/main.ts"))) signal(bridgePid, "SIGKILL");
      if (existsSync(path.join(dir, "kafka"))) {
        await run("bash", [path.join(checkout, "scripts/kafka.sh"), "stop"], {
          env: { ...process.env, EDGEBUS_KAFKA_STATE: path.join(dir, "kafka") },
        }).catch((error) => log(`stopping its Kafka: ${error}`));
      }
      if (existsSync(path.join(dir, "postgres", "postmaster.pid"))) {
        await new TempPostgres(pgBin, path.join(dir, "postgres"), 0)
          .stop("immediate")
          .catch((error) => log(`stopping its Postgres: ${error}`));
      }
      if (owner.pid === undefined) await writeFile(path.join(dir, OWNER_FILE), JSON.stringify({ kept: true }));
      else await rm(dir, { recursive: true, force: true });
    }
  }
}

/**
 * A fresh work folder. When this runs as root, Postgres runs as the `postgres` user and must reach
 * its data folder inside: a TMPDIR that user cannot traverse (a private 0700 folder) is passed
 * over for /tmp, then /var/tmp, rather than failing at `initdb`.
 */
async function chaosWorkDir(): Promise<string> {
  const candidates = WORK_PARENTS();
  for (const parent of candidates) {
    const dir = await mkdtemp(path.join(parent, "edgebus-chaos-")).catch(() => undefined);
    if (!dir) continue;
    await chmod(dir, 0o755);
    if (process.getuid?.() !== 0) return dir;
    const reachable = await run("runuser", ["-u", "postgres", "--", "test", "-x", dir], { cwd: "/" }).then(
      () => true,
      () => false,
    );
    if (reachable) return dir;
    log(`the postgres user cannot reach ${dir}: trying another parent folder`);
    await rm(dir, { recursive: true, force: true });
  }
  throw new Error(`no work folder the postgres user can reach under ${candidates.join(", ")}`);
}

export class ChaosStack {
  readonly workDir: string;
  readonly postgres: TempPostgres;
  readonly kafka: ChaosKafka;
  readonly ports: ChaosPorts;
  bridge!: BridgeProcess;
  info!: ChaosStackInfo;
  #dev: ChildProcess | undefined;
  #kafkaStarted = false;
  #postgresStarted = false;
  #redisUser: GatewayRedisUser | undefined;
  /** The private NATS and RabbitMQ of the mirror's extra targets (restarted as faults). */
  readonly nats: PrivateBroker;
  readonly rabbitmq: PrivateBroker;
  #brokersStarted = false;

  private constructor(workDir: string, pgBin: string, ports: ChaosPorts) {
    this.workDir = workDir;
    this.ports = ports;
    this.postgres = new TempPostgres(pgBin, path.join(workDir, "postgres"), ports.postgres);
    this.kafka = new ChaosKafka(path.join(workDir, "kafka"), ports.kafka, ports.controller);
    const brokers = brokerPorts(ports.bridge);
    this.nats = privateNats(workDir, brokers.nats);
    this.rabbitmq = privateRabbitMq(workDir, brokers);
  }

  static async create(pgBin: string): Promise<ChaosStack> {
    await reapAbandonedStacks(pgBin);
    const ports = await chooseChaosPorts();
    const workDir = await chaosWorkDir();
    await writeFile(path.join(workDir, OWNER_FILE), JSON.stringify({ pid: process.pid }));
    return new ChaosStack(workDir, pgBin, ports);
  }

  async start(): Promise<ChaosStackInfo> {
    log(`work folder ${this.workDir}; ports ${JSON.stringify(this.ports)}`);
    const started = Date.now();
    await snapshotCode(
      path.join(this.workDir, "code"),
      process.env.EDGEBUS_CHAOS_SOURCE === "head" ? "head" : "worktree",
    );
    // Postgres and the three brokers boot in parallel; Kafka is the slow one.
    await Promise.all([
      (async () => {
        this.#postgresStarted = true;
        await this.postgres.init();
        log(`Postgres on ${this.ports.postgres} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      })(),
      (async () => {
        this.#kafkaStarted = true;
        try {
          await this.kafka.script("start", "--brokers", "3");
        } catch (error) {
          // The controller ports (39092-39094) lie in Linux's ephemeral range: a client socket can
          // hold one for a moment. One clean retry; a second failure is real.
          log(`Kafka start failed, retrying once: ${String(error).split("\n").slice(0, 3).join(" ")}`);
          await this.kafka.script("reset");
          await this.kafka.script("start", "--brokers", "3");
        }
        log(`Kafka brokers ${this.kafka.brokers.join(",")} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      })(),
      (async () => {
        this.#brokersStarted = true;
        await Promise.all([this.nats.start(), this.rabbitmq.start()]);
        log(
          `NATS on ${this.nats.port}, RabbitMQ on ${this.rabbitmq.port} (${((Date.now() - started) / 1000).toFixed(1)}s)`,
        );
      })(),
    ]);

    const credentials = {
      BRIDGE_KAFKA_REST_USERNAME: "edgebus",
      BRIDGE_KAFKA_REST_PASSWORD: secret(),
      BRIDGE_REDIS_REST_TOKEN: secret(),
      BRIDGE_MIRROR_SECRET: secret(),
    };
    // The Redis REST gateway connects as its ACL user, as deployed (dropped in stop()).
    this.#redisUser = await createGatewayRedisUser(`redis://127.0.0.1:6379/${REDIS_DB}`, {
      keyPatterns: ["edgebus:*"],
    });
    const bridgeConfig = path.join(this.workDir, "bridge.json");
    await writeFile(
      bridgeConfig,
      JSON.stringify({
        port: this.ports.bridge,
        kafka: { brokers: this.kafka.brokers, clientId: "edgebus-chaos-bridge", requestTimeoutMs: 15_000 },
        redisRest: { url: this.#redisUser.url },
        // Kafka (renamed, so the mirrored copy is told apart from the producer's), plus RabbitMQ and
        // JetStream on the run's private servers: an event is acked only when all three confirmed.
        mirror: {
          targets: [
            { kind: "kafka", rename: [{ from: "gov.*", to: "onprem.gov.*" }] },
            {
              kind: "rabbitmq",
              url: `amqp://guest:guest@127.0.0.1:${this.rabbitmq.port}`,
              queues: [{ name: CHAOS_QUEUE, type: "quorum", bindingKeys: ["gov.#"] }],
              timeoutMs: 5000,
            },
            {
              kind: "nats",
              url: `nats://127.0.0.1:${this.nats.port}`,
              stream: { name: CHAOS_STREAM, duplicateWindowSeconds: 3600 },
              timeoutMs: 5000,
            },
          ],
        },
      }),
    );
    const bridgeEnv = scrubbedEnv(credentials);
    this.bridge = new BridgeProcess(bridgeEnv, bridgeConfig, path.join(this.workDir, "bridge.log"), this.ports.bridge);
    await this.bridge.start();
    log(`bridge on ${this.bridge.url}`);

    const apiKey = `ebk_${secret()}`;
    const dataDir = path.join(this.workDir, "dev");
    await mkdir(dataDir, { recursive: true });
    const { openSync } = await import("node:fs");
    const devLog = openSync(path.join(this.workDir, "dev.log"), "a");
    const devEnv = scrubbedEnv({
      ...credentials,
      DATABASE_URL: this.postgres.url,
      EDGEBUS_DEV_API_KEY: apiKey,
      KAFKA_BROKERS: this.kafka.brokers.join(","),
    });
    const stackFile = path.join(dataDir, "dev-stack.json");
    // wrangler dev picks free ports for its inner sockets and can lose that race to another
    // process on a busy machine ("Address already in use"): one more try before giving up.
    for (let attempt = 1; ; attempt++) {
      const dev = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "scripts/dev.ts",
          "--port",
          String(this.ports.producer),
          "--provider-port",
          String(this.ports.provider),
          "--bridge-url",
          this.bridge.url,
          "--data-dir",
          dataDir,
          "--rate-limit",
          "10000000/60",
        ],
        { cwd: root, env: devEnv, stdio: ["ignore", devLog, devLog], detached: true },
      );
      this.#dev = dev;
      if (dev.pid !== undefined) await writeFile(path.join(this.workDir, "dev.pid"), String(dev.pid));
      try {
        await waitFor(
          "npm run dev (wrangler dev with every Worker)",
          async () => existsSync(stackFile),
          240_000,
          () => (dev.exitCode === null ? undefined : exitedWithLog(dev.exitCode, path.join(this.workDir, "dev.log"))),
        );
        break;
      } catch (error) {
        if (attempt >= 2 || dev.exitCode === null) throw error;
        log(`npm run dev failed to start, retrying once: ${error instanceof Error ? error.message : error}`);
        await sleep(2000);
      }
    }
    const stack = JSON.parse(await readFile(stackFile, "utf8")) as { producer: string; providerUrl: string };
    this.info = {
      producer: stack.producer,
      apiKey,
      providerUrl: stack.providerUrl,
      databaseUrl: this.postgres.url,
      kafkaBrokers: this.kafka.brokers,
      bridgeUrl: this.bridge.url,
      brokerPorts: { nats: this.nats.port, amqp: this.rabbitmq.port },
    };
    log(`stack ready in ${((Date.now() - started) / 1000).toFixed(1)}s: producer ${stack.producer}`);
    return this.info;
  }

  /** Stops what `start()` started, last first; keeps the work folder when `keep` (for a failed run). */
  async stop(keep: boolean): Promise<void> {
    const dev = this.#dev;
    if (dev?.pid !== undefined && dev.exitCode === null && dev.signalCode === null) {
      const exited = new Promise((resolve) => dev.once("exit", resolve));
      process.kill(-dev.pid, "SIGTERM");
      const timer = setTimeout(() => dev.pid && process.kill(-dev.pid, "SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    }
    await this.bridge?.stop().catch((error) => log(`stopping the bridge: ${error}`));
    await this.#redisUser?.drop().catch((error) => log(`deleting the Redis ACL user: ${error}`));
    if (this.#brokersStarted) {
      await Promise.allSettled([this.nats.stop(), this.rabbitmq.stop()]);
    }
    if (this.#kafkaStarted) await this.kafka.script("reset").catch((error) => log(`stopping Kafka: ${error}`));
    if (this.#postgresStarted) await this.postgres.stop("fast").catch((error) => log(`stopping Postgres: ${error}`));
    if (keep) await writeFile(path.join(this.workDir, OWNER_FILE), JSON.stringify({ kept: true }));
    if (keep) log(`kept ${this.workDir} (logs: dev.log, bridge.log, kafka/broker-*/server.log, postgres/server.log)`);
    else await rm(this.workDir, { recursive: true, force: true });
  }
}
