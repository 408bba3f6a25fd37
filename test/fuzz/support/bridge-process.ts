/**
 * A real bridge process for the hostile-input suites: `node bridges/main.ts` with
 * every part enabled (Kafka REST on the real Kafka, Redis REST on a private redis-server, mirror
 * ingest), configured through the environment as an operator would, with its stdout and stderr
 * captured so the suites can check what it logs. Node only.
 */

import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceUrls } from "../../../scripts/service-probe.ts";
import { startBridgeChild } from "../../support/child-process.ts";
import { createGatewayRedisUser } from "../../support/redis-gateway-user.ts";
import { freePort, type PrivateRedis, startPrivateRedis } from "./private-redis.ts";
import { redisKeyCounter } from "./redis-key-counter.ts";

export interface BridgeSecrets {
  readonly kafkaUsername: string;
  readonly kafkaPassword: string;
  readonly redisToken: string;
  readonly mirrorSecret: string;
}

/** Counters that grow only when something reached Kafka or Redis. */
export interface BridgeBackendState {
  /** Records Kafka acknowledged through `/kafka`. */
  readonly kafkaProduced: number;
  /** Mirror events acknowledged by Kafka through `POST /v1/mirror`. */
  readonly mirrorAcked: number;
  /** Keys in the bridge's private Redis. */
  readonly redisKeys: number;
}

export interface BridgeProcess {
  readonly url: string;
  /** The bridge's process id (its RSS is in `/proc/<pid>/status`). */
  readonly pid: number;
  readonly secrets: BridgeSecrets;
  readonly redisUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** True while the process has not exited. */
  alive(): boolean;
  state(): Promise<BridgeBackendState>;
  /** Sends a signal to the process (e.g. SIGHUP to reload its TLS certificate). */
  signal(name: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface BridgeProcessOptions {
  /** Non-secret settings, written to a config file the bridge reads (`--config`). */
  readonly config?: Record<string, unknown>;
  /** More environment variables (secrets, overrides). */
  readonly env?: Record<string, string>;
  /** `https` when the config turns on the bridge's own TLS. */
  readonly scheme?: "http" | "https";
}

/** The caller's environment minus bridge settings it may carry (a config file path, other secrets). */
function metric(text: string, name: string, labels = ""): number {
  const prefix = `${name}${labels}`;
  const line = text.split("\n").find((l) => l.startsWith(`${prefix} `));
  return line === undefined ? 0 : Number(line.slice(prefix.length + 1));
}

/**
 * The suites' own topics may be created (the bridge creates only the catalogue's and configured
 * patterns): `edgebus.fuzz.*`, `edgebus.hygiene` and the mirror's `gov.fuzz.*`. A caller's config
 * is laid over this, section by section.
 */
function withDefaults(config: Record<string, unknown>): Record<string, unknown> {
  const defaults: Record<string, Record<string, unknown>> = {
    kafka: { topics: { createPatterns: ["edgebus.fuzz.*", "edgebus.hygiene", "gov.fuzz.*"] } },
  };
  return mergeDeep(defaults, config);
}

function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Starts the bridge on a free port of engineer D's range and resolves once it logged that it listens. */
export async function startBridgeProcess(options: BridgeProcessOptions = {}): Promise<BridgeProcess> {
  const redis: PrivateRedis = await startPrivateRedis();
  // The Redis REST gateway connects as its ACL user, as deployed (the server is private: no clean-up).
  const gatewayUser = await createGatewayRedisUser(redis.url);
  // Chosen after the private Redis is listening, so the two cannot pick the same free port.
  const port = await freePort();
  const secrets: BridgeSecrets = {
    kafkaUsername: "fuzz-user",
    kafkaPassword: `kafka-pass-${randomBytes(12).toString("hex")}`,
    redisToken: `redis-token-${randomBytes(12).toString("hex")}`,
    mirrorSecret: `mirror-secret-${randomBytes(12).toString("hex")}`,
  };
  const configDir = await mkdtemp(join(tmpdir(), "edgebus-fuzz-bridge-"));
  const configFile = join(configDir, "bridge.json");
  await writeFile(configFile, JSON.stringify(withDefaults(options.config ?? {})));
  const url = `${options.scheme ?? "http"}://127.0.0.1:${port}`;
  let started: Awaited<ReturnType<typeof startBridgeChild>>;
  try {
    started = await startBridgeChild(
      configFile,
      {
        BRIDGE_PORT: String(port),
        KAFKA_BROKERS: serviceUrls.kafkaBrokers.join(","),
        REDIS_URL: gatewayUser.url,
        BRIDGE_KAFKA_REST_USERNAME: secrets.kafkaUsername,
        BRIDGE_KAFKA_REST_PASSWORD: secrets.kafkaPassword,
        BRIDGE_REDIS_REST_TOKEN: secrets.redisToken,
        BRIDGE_MIRROR_SECRET: secrets.mirrorSecret,
        ...options.env,
      },
      60_000,
    );
  } catch (error) {
    await redis.stop();
    await rm(configDir, { recursive: true, force: true });
    throw error;
  }
  const { child, output } = started;
  const keys = redisKeyCounter(redis.url);
  return {
    url,
    pid: child.pid as number,
    secrets,
    redisUrl: redis.url,
    output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async state() {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      return {
        kafkaProduced: metric(metrics, "edgebus_bridge_kafka_rest_produced_total"),
        mirrorAcked: metric(metrics, "edgebus_bridge_mirror_events_total", '{status="acked"}'),
        redisKeys: await keys.count("*"),
      };
    },
    signal(name) {
      child.kill(name);
    },
    async stop() {
      await keys.close();
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        });
      }
      await redis.stop();
      await rm(configDir, { recursive: true, force: true });
    },
  };
}
