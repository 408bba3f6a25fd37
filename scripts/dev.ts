/**
 * `npm run dev`: the whole edgebus stack on one machine, with embedded defaults.
 *
 * - Postgres: `DATABASE_URL`, or the embedded Postgres (PGlite, `.dev-data/postgres`, port 54329
 *   or `--postgres-port`) when unset; migrations are applied either way. Every Worker's
 *   Hyperdrive binding points at it.
 * - Notifications: the local provider (SendGrid / Twilio / webhook / Web Push look-alike) on :8790,
 *   and the notifier's provider base URLs and credentials pointed at it; a VAPID key pair made
 *   for the run (its public key in `.dev-data/dev-stack.json`, for subscribing).
 * - Kafka: `KAFKA_BROKERS`, or `--with-kafka` to start `scripts/kafka.sh` (needs Java 17+).
 *   With Kafka the bridge serves the Kafka REST gateway and the mirror ingest, the producer
 *   publishes through it (topics `gov.*`) and the kafka-mirror Worker runs; the bridge dev starts
 *   renames the mirror's copies to `onprem.gov.*`, since one cluster stands for both the edge's
 *   Kafka and the on-prem one.
 * - Redis: `REDIS_URL` → the bridge's Redis REST gateway backs the producer's dedup and rate
 *   limits, connected as an ACL user dev creates through `REDIS_URL` (`edgebus-dev-<bridge port>`,
 *   random password, deleted at the end); unset → the producer's isolate-local store (fine for one
 *   `wrangler dev` process).
 * - Mirror targets: `BRIDGE_RABBITMQ_URL`, `BRIDGE_NATS_URL`, `BRIDGE_REDIS_STREAMS_URL` (passed on
 *   to the bridge it starts) each add a target the mirror writes into besides Kafka (RabbitMQ,
 *   NATS JetStream, Redis Streams, with their defaults), listed in the URL table.
 * - Workers: ONE `wrangler dev` with every config (producer first, so it serves :8787), local
 *   queues, state under `.dev-data/wrangler`.
 * - A development API key (all scopes, `EDGEBUS_DEV_API_KEY` or random); only its hash reaches
 *   the producer. `--rate-limit <events>/<seconds>` replaces the producer's default limit for it.
 *   `EDGEBUS_DEV_EXTRA_API_KEYS` (entries as in `EDGEBUS_API_KEYS`) adds more keys.
 * - `--bridge-url <url>`: use a bridge someone else runs (a test harness that kills and restarts
 *   it) instead of starting one; its credentials come from the bridge's own variables
 *   (`BRIDGE_KAFKA_REST_USERNAME`/`_PASSWORD` turn on Kafka, `BRIDGE_REDIS_REST_TOKEN` Redis,
 *   `BRIDGE_MIRROR_SECRET` the mirror). The stack keeps running when that bridge goes away.
 * - `--catalogues gov,commerce,learning` (else `EDGEBUS_CATALOGUES`, else `gov`): the event
 *   catalogues the producer loads (docs/catalogues.md); `npm run demo -- --catalogue <name>`
 *   publishes one of each of a catalogue's types.
 *
 * Ctrl-C stops everything this script started (and only that).
 *
 * Values reach the Workers as environment: wrangler passes only `--var` to the first config,
 * so the child gets `CLOUDFLARE_INCLUDE_PROCESS_ENV=true` and a curated environment, which
 * wrangler loads for every Worker whose folder has no `.dev.vars` (a `.dev.vars` wins).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import postgres from "postgres";
import { withoutCredentials } from "#shared/log.ts";
import { createGatewayAclUser, redisUrlAs, redisUrlParts } from "../bridges/redis-rest/redis-acl.ts";
import { bridgeProcessArgs } from "../bridges/v8-tuning.ts";
import { catalogueNames, loadCatalogues } from "../schemas/catalogues.ts";
import { governmentCatalogue } from "../schemas/index.ts";
import { generateVapidKeys } from "../workers/notifier/src/notify/vapid.ts";
import { parseApiKeys } from "../workers/producer/src/auth/api-key-config.ts";
import { generateApiKey, hashApiKey } from "../workers/producer/src/auth/key-hash.ts";
import { preparePrivateDataDir, tightenModes, writePrivateFile } from "./dev-data.ts";
import { EMBEDDED_POSTGRES_DEFAULT_PORT, type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.ts";
import { LOCAL_PROVIDER_CREDENTIALS, type LocalProvider, startLocalProvider } from "./local-provider.ts";
import { migrate } from "./migrate.ts";
import { canConnect } from "./service-probe.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// `--data-dir` moves it (a second stack, a test harness); default `.dev-data` in the checkout.
let DEV_DATA = path.join(root, ".dev-data");
// Defaults from docs/configuration.md; `--port`, `--bridge-port`, `--provider-port` move them (e.g. a second stack).
let PRODUCER_PORT = 8787;
let BRIDGE_PORT = 8788;
let PROVIDER_PORT = 8790;
/** Embedded Postgres (only without DATABASE_URL); `--postgres-port` moves it. */
let POSTGRES_PORT = EMBEDDED_POSTGRES_DEFAULT_PORT;
const READY_TIMEOUT_MS = 180_000;
/** Topic prefix of the kafka-mirror Worker's copies when dev starts the bridge (one cluster, two paths). */
const DEV_MIRROR_PREFIX = "onprem.";

/** Stops, last started first. */
const stoppers: Array<{ name: string; stop: () => Promise<void> }> = [];

function log(message: string): void {
  console.log(`dev: ${message}`);
}

function randomSecret(): string {
  return randomBytes(24).toString("base64url");
}

/** Spawns a long-running child in its own process group so stopping it reaches its children too. */
function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"], detached: true });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", (code, signal) => {
    if (!shuttingDown) {
      console.error(`dev: ${name} exited (${signal ?? `exit ${code}`}); stopping the stack`);
      void shutdown(1);
    }
  });
  // Last resort when this process exits without a clean shutdown: never leave a child running.
  process.on("exit", () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  });
  stoppers.push({
    name,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      process.kill(-child.pid, "SIGTERM");
      const killer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  });
  return child;
}

/** Refuses a taken port up front: otherwise the readiness checks could be answered by another stack. */
async function assertPortFree(port: number, flag: string): Promise<void> {
  if (await canConnect("127.0.0.1", port)) {
    throw new Error(`127.0.0.1:${port} is already in use (another dev stack?); stop it or choose another ${flag}`);
  }
}

async function waitForHttp(url: string, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (shuttingDown) throw new Error("stopped while waiting");
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what} did not answer ${url} within ${READY_TIMEOUT_MS / 1000}s`);
}

async function preparePostgres(): Promise<string> {
  let url = process.env.DATABASE_URL;
  if (url === undefined) {
    const embedded: EmbeddedPostgres = await startEmbeddedPostgres({
      dataDir: path.join(DEV_DATA, "postgres"),
      port: POSTGRES_PORT,
    });
    stoppers.push({ name: "embedded Postgres", stop: () => embedded.stop() });
    url = embedded.url;
    log(`embedded Postgres (PGlite) on ${url}, data in ${path.relative(root, path.join(DEV_DATA, "postgres")) || "."}`);
  }
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const result = await migrate(sql, { log: (line) => log(`migrate: ${line}`) });
    log(`migrations: ${result.applied.length} applied now`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  return url;
}

function hasJava(): boolean {
  return spawnSync("sh", ["-c", "command -v java"], { stdio: "ignore" }).status === 0;
}

async function startKafka(): Promise<string> {
  if (!hasJava()) throw new Error("--with-kafka needs Java 17+ on PATH (or set KAFKA_BROKERS to an existing cluster)");
  // A broker that was already serving belongs to someone else's session: use it, never stop it.
  const alreadyServing = spawnSync("bash", ["scripts/kafka.sh", "status"], { cwd: root, stdio: "ignore" }).status === 0;
  const result = spawnSync("bash", ["scripts/kafka.sh", "start"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) throw new Error("scripts/kafka.sh start failed");
  if (alreadyServing) return "127.0.0.1:9092";
  stoppers.push({
    name: "Kafka",
    stop: async () => {
      spawnSync("bash", ["scripts/kafka.sh", "stop"], { cwd: root, stdio: "inherit" });
    },
  });
  return "127.0.0.1:9092";
}

interface BridgeSettings {
  url: string;
  kafkaRest?: { username: string; password: string };
  redisRest?: { token: string };
  mirrorSecret?: string;
}

/** A bridge this script does not own: settings from the variables the bridge itself reads. */
async function externalBridge(url: string): Promise<BridgeSettings> {
  const env = process.env;
  const settings: BridgeSettings = { url: url.replace(/\/+$/, "") };
  if (env.BRIDGE_KAFKA_REST_USERNAME && env.BRIDGE_KAFKA_REST_PASSWORD) {
    settings.kafkaRest = { username: env.BRIDGE_KAFKA_REST_USERNAME, password: env.BRIDGE_KAFKA_REST_PASSWORD };
  }
  if (env.BRIDGE_REDIS_REST_TOKEN) settings.redisRest = { token: env.BRIDGE_REDIS_REST_TOKEN };
  if (env.BRIDGE_MIRROR_SECRET) settings.mirrorSecret = env.BRIDGE_MIRROR_SECRET;
  if (!settings.kafkaRest && !settings.redisRest && !settings.mirrorSecret) {
    throw new Error(
      "--bridge-url needs the bridge's credentials in the environment (BRIDGE_KAFKA_REST_USERNAME/PASSWORD, BRIDGE_REDIS_REST_TOKEN, BRIDGE_MIRROR_SECRET)",
    );
  }
  await waitForHttp(`${settings.url}/healthz`, "the bridge at --bridge-url");
  return settings;
}

/** `<events>/<seconds>`, e.g. `100000/60`. */
function parseRateLimit(text: string): { requests: number; window_seconds: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const requests = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!match || requests < 1 || windowSeconds < 1 || windowSeconds > 86_400) {
    throw new Error(`--rate-limit must be <events>/<seconds>, e.g. 100000/60 (got '${text}')`);
  }
  return { requests, window_seconds: windowSeconds };
}

async function startBridge(kafkaBrokers: string | undefined, redisUrl: string | undefined): Promise<BridgeSettings> {
  const settings: BridgeSettings = { url: `http://127.0.0.1:${BRIDGE_PORT}` };
  if (kafkaBrokers) {
    settings.kafkaRest = { username: "edgebus", password: randomSecret() };
    settings.mirrorSecret = randomSecret();
  }
  if (redisUrl) settings.redisRest = { token: randomSecret() };
  const gatewayRedis = redisUrl ? await gatewayRedisForDev(redisUrl) : undefined;
  // The file switches the gateways on or off; every other value comes from the environment. One
  // cluster plays both parts here: the producer's own publish (the edge path) lands in the
  // catalogue topics (`gov.*`, `order-events`, …), the kafka-mirror Worker's copy (the on-prem
  // path) in `onprem.<topic>`, so neither doubles the other. Catalogue topics are created with
  // their settings, replication capped at this cluster's broker count (the bridge logs each cap).
  const configFile = path.join(DEV_DATA, "bridge.dev.json");
  await writePrivateFile(
    configFile,
    JSON.stringify({
      kafkaRest: { enabled: Boolean(kafkaBrokers) },
      redisRest: { enabled: Boolean(redisUrl), allowUnrestrictedUser: gatewayRedis?.allowUnrestrictedUser ?? false },
      // The rename is the Kafka target's own: BRIDGE_RABBITMQ_URL, BRIDGE_NATS_URL and
      // BRIDGE_REDIS_STREAMS_URL add targets that get the event types as they are.
      mirror: { targets: [{ kind: "kafka", rename: [{ from: "*", to: `${DEV_MIRROR_PREFIX}*` }] }] },
      kafka: { topics: { capReplication: true } },
    }),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BRIDGE_PORT: String(BRIDGE_PORT),
    ...(kafkaBrokers ? { KAFKA_BROKERS: kafkaBrokers } : {}),
    ...(gatewayRedis ? { REDIS_URL: gatewayRedis.url } : {}),
    ...(settings.kafkaRest
      ? {
          BRIDGE_KAFKA_REST_USERNAME: settings.kafkaRest.username,
          BRIDGE_KAFKA_REST_PASSWORD: settings.kafkaRest.password,
        }
      : {}),
    ...(settings.redisRest ? { BRIDGE_REDIS_REST_TOKEN: settings.redisRest.token } : {}),
    ...(settings.mirrorSecret ? { BRIDGE_MIRROR_SECRET: settings.mirrorSecret } : {}),
  };
  startChild("bridge", process.execPath, bridgeProcessArgs(configFile), env);
  await waitForHttp(`${settings.url}/healthz`, "the bridge");
  return settings;
}

/**
 * The Redis REST gateway's ACL user for this stack (`edgebus-dev-<bridge port>`, the bridge's own
 * allow list and key patterns, a new random password each run, deleted when the stack stops),
 * created through REDIS_URL. When REDIS_URL may not create users (or Redis is older than 7.0), the
 * bridge connects as REDIS_URL itself with `allowUnrestrictedUser` and logs a warning.
 */
async function gatewayRedisForDev(redisUrl: string): Promise<{ url: string; allowUnrestrictedUser: boolean }> {
  const username = `edgebus-dev-${BRIDGE_PORT}`;
  const password = randomSecret();
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  admin.on("error", () => undefined);
  try {
    await admin.connect();
    await createGatewayAclUser(admin, username, password, {
      keyPatterns: ["edgebus:*"],
      db: redisUrlParts(redisUrl).db,
    });
  } catch (error) {
    log(
      `cannot create the Redis ACL user ${username} (${error instanceof Error ? error.message : String(error)}); ` +
        "the bridge connects as REDIS_URL instead and warns (docs/security.md)",
    );
    return { url: redisUrl, allowUnrestrictedUser: true };
  } finally {
    admin.disconnect();
  }
  stoppers.push({
    name: "the Redis ACL user",
    stop: async () => {
      const cleanup = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      cleanup.on("error", () => undefined);
      try {
        await cleanup.call("ACL", "DELUSER", username);
      } finally {
        cleanup.disconnect();
      }
    },
  });
  return { url: redisUrlAs(redisUrl, username, password), allowUnrestrictedUser: false };
}

/** Producer first (it serves HTTP), then every consumer Worker; kafka-mirror only when the bridge mirrors. */
function workerConfigs(withMirror: boolean): string[] {
  const configs = ["wrangler.toml"];
  for (const worker of readdirSync(path.join(root, "workers")).sort()) {
    if (worker === "producer" || (worker === "kafka-mirror" && !withMirror)) continue;
    const folder = path.join("workers", worker);
    for (const file of readdirSync(path.join(root, folder)).sort()) {
      if (/^wrangler(\.[\w-]+)?\.toml$/.test(file)) configs.push(path.join(folder, file));
    }
  }
  return configs;
}

/**
 * Wrangler rejects a Hyperdrive connection string without a password. Trust-auth servers and the
 * embedded Postgres ignore it, so a placeholder is added only when the URL has none.
 */
function withPassword(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (!url.password) url.password = "postgres";
  return url.toString();
}

/**
 * The few variables wrangler itself needs, so the Workers' env is not flooded with the shell's.
 * Wrangler's local trace collector (`X_LOCAL_OBSERVABILITY`, on by default) is off unless the
 * shell turns it on: it streams every invocation's spans into SQLite on the same thread that
 * runs every Worker, which in this one-process stack cost as much CPU as a consumer Worker
 * (bench/README.md, end-to-end); deployed Workers pay nothing like it.
 */
function baseEnvironment(): NodeJS.ProcessEnv {
  const keep =
    /^(PATH|HOME|TMPDIR|TERM|LANG|LC_\w+|NODE_EXTRA_CA_CERTS|SSL_CERT_\w+|CLOUDFLARE_\w+|WRANGLER_\w+|X_LOCAL_\w+)$/;
  return {
    X_LOCAL_OBSERVABILITY: "false",
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => keep.test(key))),
  };
}

function startWorkers(options: {
  configs: string[];
  databaseUrl: string;
  apiKeysJson: string;
  provider: LocalProvider;
  bridge: BridgeSettings | undefined;
  vapid: { publicKey: string; privateKey: string };
  catalogues: string;
}): void {
  const { bridge, provider } = options;
  const credentials = provider.credentials;
  const vars: Record<string, string> = {
    CLOUDFLARE_INCLUDE_PROCESS_ENV: "true",
    CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: withPassword(options.databaseUrl),
    // producer
    EDGEBUS_API_KEYS: options.apiKeysJson,
    EDGEBUS_CATALOGUES: options.catalogues,
    // operator console: session cookies signed with a key of this run (sign in again after a restart)
    CONSOLE_SESSION_SECRET: randomSecret(),
    // notifier → local provider
    SENDGRID_BASE_URL: provider.url,
    SENDGRID_API_KEY: credentials.sendgridApiKey,
    TWILIO_BASE_URL: provider.url,
    TWILIO_ACCOUNT_SID: credentials.twilioAccountSid,
    TWILIO_AUTH_TOKEN: credentials.twilioAuthToken,
    TWILIO_FROM: credentials.twilioFrom,
    WEBHOOK_URL: `${provider.url}/webhooks/case-management`,
    WEBHOOK_SECRET: credentials.webhookSecret,
    // The local provider answers SendGrid's Email Activity lookup too, and shows a message to
    // both lookups at once (no lookup lag), so an unknown outcome can be checked after seconds.
    SENDGRID_EMAIL_ACTIVITY: "true",
    UNKNOWN_OUTCOME_VISIBILITY_SECONDS: "10",
    // Web Push: the notifier signs with this run's VAPID pair (the local push service checks it).
    VAPID_PUBLIC_KEY: options.vapid.publicKey,
    VAPID_PRIVATE_KEY: options.vapid.privateKey,
    // webhook subscriptions (producer and webhooks Worker): a local receiver is http://127.0.0.1,
    // which only this explicit development setting allows (docs/webhooks.md#safety).
    WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
  };
  // A test harness may shorten the webhooks' retry schedule (e.g. "1,1,1").
  if (process.env.WEBHOOK_RETRY_SCHEDULE) vars.WEBHOOK_RETRY_SCHEDULE = process.env.WEBHOOK_RETRY_SCHEDULE;
  if (bridge?.kafkaRest) {
    vars.UPSTASH_KAFKA_REST_URL = `${bridge.url}/kafka`;
    vars.UPSTASH_KAFKA_REST_USERNAME = bridge.kafkaRest.username;
    vars.UPSTASH_KAFKA_REST_PASSWORD = bridge.kafkaRest.password;
  }
  if (bridge?.redisRest) {
    vars.UPSTASH_REDIS_REST_URL = `${bridge.url}/redis`;
    vars.UPSTASH_REDIS_REST_TOKEN = bridge.redisRest.token;
  }
  if (bridge?.mirrorSecret) {
    vars.BRIDGE_MIRROR_URL = `${bridge.url}/v1/mirror`;
    vars.BRIDGE_MIRROR_SECRET = bridge.mirrorSecret;
  }
  for (const config of options.configs) {
    const devVars = path.join(root, path.dirname(config), ".dev.vars");
    if (existsSync(devVars))
      log(`note: ${path.relative(root, devVars)} exists and overrides the values npm run dev sets`);
  }
  const args = [
    path.join(root, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    ...options.configs.flatMap((config) => ["-c", config]),
    "--ip",
    "127.0.0.1",
    "--port",
    String(PRODUCER_PORT),
    "--persist-to",
    path.join(DEV_DATA, "wrangler"),
    "--show-interactive-dev-session=false",
  ];
  startChild("wrangler dev", process.execPath, args, { ...baseEnvironment(), ...vars });
}

function printTable(rows: Array<[string, string]>): void {
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`\n${"─".repeat(72)}`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
  console.log("─".repeat(72));
}

/**
 * The request README.md's quick start shows, for this stack's port: the catalogue's example
 * citizen registration (fixed event id, citizen 104233), the key taken from `$EDGEBUS_API_KEY`.
 * It must stay the README's text (test/e2e/producer-readme-quickstart.test.ts compares them).
 */
function exampleCurl(): string {
  const type = "gov.auth.citizen.created";
  const event = {
    specversion: "1.0",
    id: "d53b357e-23be-4f16-87d7-f7db7fb69f15",
    source: "/services/identity",
    type,
    eventversion: 1,
    data: governmentCatalogue.require(type).example,
  };
  return [
    `curl -sS http://127.0.0.1:${PRODUCER_PORT}/v1/events \\`,
    '  -H "Authorization: Bearer $EDGEBUS_API_KEY" \\',
    "  -H 'Content-Type: application/cloudevents+json' \\",
    `  -d '${JSON.stringify(event)}'`,
  ].join("\n");
}

/** A single-quoted shell word. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function parsePort(text: string, flag: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${flag} must be a port number (got '${text}')`);
  return port;
}

let shuttingDown = false;
let stopping: Promise<never> | undefined;
/**
 * Stops everything, last started first. A second signal while stopping (Ctrl-C reaches npm, tsx
 * and this process, and they relay it) joins the shutdown in progress instead of exiting early,
 * which would orphan the children.
 */
function shutdown(code: number): Promise<never> {
  shuttingDown = true;
  stopping ??= (async () => {
    log("stopping…");
    for (const { name, stop } of stoppers.reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error(`dev: stopping ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    process.exit(code);
  })();
  return stopping;
}

/**
 * Stops the stack when whoever started it is gone (SIGKILLed `npm run dev`, a crashed test
 * runner): the orphan is adopted by another process and its parent pid changes. Without this, an
 * orphaned stack keeps its ports and the next `npm run dev` or test run finds them taken.
 */
function watchParent(): void {
  const parent = process.ppid;
  if (parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      console.error(`dev: parent process ${parent} is gone; stopping the stack`);
      clearInterval(timer);
      void shutdown(1);
    }
  }, 1000);
  timer.unref();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "with-kafka": { type: "boolean", default: false },
      port: { type: "string", default: String(PRODUCER_PORT) },
      "bridge-port": { type: "string", default: String(BRIDGE_PORT) },
      "provider-port": { type: "string", default: String(PROVIDER_PORT) },
      "data-dir": { type: "string", default: DEV_DATA },
      "postgres-port": { type: "string", default: String(POSTGRES_PORT) },
      "bridge-url": { type: "string" },
      "rate-limit": { type: "string" },
      catalogues: { type: "string" },
    },
  });
  DEV_DATA = path.resolve(values["data-dir"]);
  PRODUCER_PORT = parsePort(values.port, "--port");
  BRIDGE_PORT = parsePort(values["bridge-port"], "--bridge-port");
  PROVIDER_PORT = parsePort(values["provider-port"], "--provider-port");
  POSTGRES_PORT = parsePort(values["postgres-port"], "--postgres-port");
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(0));
  watchParent();
  await assertPortFree(PRODUCER_PORT, "--port");
  await assertPortFree(PROVIDER_PORT, "--provider-port");
  if (process.env.DATABASE_URL === undefined) await assertPortFree(POSTGRES_PORT, "--postgres-port");
  const rateLimit = values["rate-limit"] === undefined ? undefined : parseRateLimit(values["rate-limit"]);
  // Which catalogues the producer loads (`--catalogues gov,commerce,learning`, else EDGEBUS_CATALOGUES,
  // else gov); loaded here first so an unknown name or a collision stops the start with its reason.
  const catalogues = catalogueNames(values.catalogues ?? process.env.EDGEBUS_CATALOGUES).join(",");
  loadCatalogues(catalogues);
  const bridgeUrl = values["bridge-url"];
  if (bridgeUrl === undefined && (process.env.KAFKA_BROKERS || process.env.REDIS_URL || values["with-kafka"])) {
    await assertPortFree(BRIDGE_PORT, "--bridge-port");
  }
  // Private to the user (the dev API key is in it): umask 077 for this process and its children.
  await preparePrivateDataDir(DEV_DATA);

  const databaseUrl = await preparePostgres();
  // PGlite unpacks its initial data folder 0666 whatever the umask; what it creates later is 0600.
  await tightenModes(DEV_DATA);
  const provider = await startLocalProvider({ port: PROVIDER_PORT, credentials: LOCAL_PROVIDER_CREDENTIALS });
  stoppers.push({ name: "local provider", stop: () => provider.close() });
  log(`local notification provider on ${provider.url}`);

  let kafkaBrokers = process.env.KAFKA_BROKERS || undefined;
  if (!kafkaBrokers && values["with-kafka"] && bridgeUrl === undefined) kafkaBrokers = await startKafka();
  const redisUrl = process.env.REDIS_URL || undefined;
  let bridge: BridgeSettings | undefined;
  if (bridgeUrl !== undefined) bridge = await externalBridge(bridgeUrl);
  else if (kafkaBrokers || redisUrl) bridge = await startBridge(kafkaBrokers, redisUrl);

  const apiKey = process.env.EDGEBUS_DEV_API_KEY || generateApiKey();
  const apiKeysJson = JSON.stringify([
    {
      id: "dev",
      hash: await hashApiKey(apiKey),
      sources: ["**"],
      types: ["**"],
      admin: true,
      // The development key may do everything, including sending to contacts carried in events.
      scopes: ["notify:direct-contact", "notify:push-subscriptions"],
      ...(rateLimit ? { rate_limit: rateLimit } : {}),
    },
    // More keys beside the dev key (a test harness needs a key without the admin scope): entries
    // as in EDGEBUS_API_KEYS, checked here so a mistake fails at start.
    ...parseApiKeys(process.env.EDGEBUS_DEV_EXTRA_API_KEYS),
  ]);
  const configs = workerConfigs(Boolean(bridge?.mirrorSecret));
  log(`starting wrangler dev with ${configs.join(", ")}`);
  const vapid = await generateVapidKeys();
  startWorkers({ configs, databaseUrl, apiKeysJson, provider, bridge, vapid, catalogues });
  await waitForHttp(`http://127.0.0.1:${PRODUCER_PORT}/healthz`, "the producer");

  const producer = `http://127.0.0.1:${PRODUCER_PORT}`;
  printTable([
    ["API", `${producer}/v1/events`],
    ["API docs", `${producer}/docs`],
    ["catalogues", `${catalogues}  (npm run routes -- list)`],
    ["console", `${producer}/console/  (sign in with the dev API key)`],
    ["health / metrics", `${producer}/healthz  ${producer}/metrics`],
    ["bridge", bridge ? `${bridge.url}/healthz` : "off (set KAFKA_BROKERS / REDIS_URL, or --with-kafka)"],
    [
      "Kafka",
      kafkaBrokers === undefined
        ? "off (KAFKA_BROKERS or --with-kafka)"
        : bridgeUrl === undefined
          ? `${kafkaBrokers}  (producer → catalogue topics, kafka-mirror → ${DEV_MIRROR_PREFIX}<topic>)`
          : kafkaBrokers,
    ],
    ...mirrorTargetRows(Boolean(bridge?.mirrorSecret) && bridgeUrl === undefined),
    [
      "Redis",
      bridge?.redisRest
        ? `${redisUrl ?? "the bridge's"} via ${bridge.url}/redis`
        : "off: producer's isolate-local store (REDIS_URL)",
    ],
    ["provider inbox", `${provider.url}/  (JSON: ${provider.url}/inbox)`],
    ["Postgres", databaseUrl],
    ["dev API key", `${apiKey}  (all scopes, local only)`],
  ]);
  console.log(
    `\nTry it (README.md's quick start):\n\nexport EDGEBUS_API_KEY=${shellQuote(apiKey)}\n${exampleCurl()}\n\nThen: npm run demo   ·   Ctrl-C stops everything.\n`,
  );
  // The demo reads the key and URLs from here; the file lives in the git-ignored .dev-data.
  await writePrivateFile(
    path.join(DEV_DATA, "dev-stack.json"),
    JSON.stringify({
      producer,
      apiKey,
      providerUrl: provider.url,
      databaseUrl,
      bridge: bridge ?? null,
      kafkaBrokers,
      vapidPublicKey: vapid.publicKey,
    }),
  );
}

/** A row per broker the mirror writes into besides Kafka: the variables that enable them, when set. */
function mirrorTargetRows(mirroring: boolean): Array<[string, string]> {
  const targets = [
    ["BRIDGE_RABBITMQ_URL", "RabbitMQ", "exchange edgebus, routing key = type"],
    ["BRIDGE_NATS_URL", "NATS JetStream", "stream EDGEBUS, subject edgebus.<type>"],
    ["BRIDGE_REDIS_STREAMS_URL", "Redis Streams", "stream edgebus:<topic>"],
  ] as const;
  return targets.flatMap(([variable, label, where]): Array<[string, string]> => {
    const url = process.env[variable];
    if (!url) return [];
    return [
      [
        `mirror → ${label}`,
        mirroring
          ? `${withoutCredentials(url)}  (${where})`
          : `${variable} is set, but the mirror is off (it needs Kafka)`,
      ],
    ];
  });
}

main().catch(async (error: unknown) => {
  console.error(`dev: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
});
