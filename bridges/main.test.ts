/** `bridges/main.ts` as a real process started from a config file, against real Kafka and Redis. */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka } from "@upstash/kafka";
import { afterAll, describe, expect, it } from "vitest";
import { MIRROR_PATH, mirrorResponseSchema } from "#shared/mirror-protocol.ts";
import { signMirrorRequest } from "#shared/mirror-signature.ts";
import { serviceUrls } from "../scripts/service-probe.ts";
import { scrubbedEnv } from "../test/support/child-env.ts";
import { collectOutput, startBridgeChild } from "../test/support/child-process.ts";
import { requireService } from "../test/support/services.ts";
import { BRIDGE_NODE_OPTIONS, bridgeProcessArgs } from "./v8-tuning.ts";

const available = (await requireService("kafka", "bridge main")) && (await requireService("redis", "bridge main"));
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const secrets = {
  BRIDGE_KAFKA_REST_PASSWORD: "kafka-rest-password-0001",
  BRIDGE_REDIS_REST_TOKEN: "redis-rest-token-0000001",
  BRIDGE_MIRROR_SECRET: "mirror-secret-0000000001",
};

function startMain(configPath: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, bridgeProcessArgs(configPath), {
    cwd: join(import.meta.dirname, ".."),
    env: scrubbedEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

interface LogRecord {
  level: string;
  msg: string;
  component?: string;
  url?: string;
  note?: string;
  error_message?: string;
}

/** What the bridge printed; it logs JSON lines only (the one logger of shared/src/log.ts). */
function logOf(text: () => string): { text: () => string; records: () => LogRecord[] } {
  const records = () => {
    const printed = text();
    return printed
      .slice(0, printed.lastIndexOf("\n") + 1) // complete lines only; a chunk may end mid-line
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as LogRecord);
  };
  return { text, records };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Starts main.ts as the Node suites start the bridge, once it listens: its log, its exit and its URL. */
async function startListening(configPath: string, env: Record<string, string>, nodeOptions?: readonly string[]) {
  const { child, output } = await startBridgeChild(configPath, env, 20_000, nodeOptions);
  const log = logOf(output);
  const url = log.records().find((record) => record.msg === "edgebus bridge listening")?.url;
  expect(url, log.text()).toBeDefined();
  return { child, log, exited: exitCode(child), url: url as string };
}

describe.runIf(available)("bridge main", () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  /** A temporary folder for one test's config file, removed after the suite. */
  const configDir = async () => {
    const made = await mkdtemp(join(tmpdir(), "edgebus-bridge-"));
    dirs.push(made);
    return made;
  };
  /** A bridge.yaml of these lines in a fresh folder; its path. */
  const yamlConfig = async (lines: string[]) => {
    const path = join(await configDir(), "bridge.yaml");
    await writeFile(path, lines.join("\n"));
    return path;
  };
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("starts from a YAML file plus environment, serves every area, exits 0 on SIGTERM", async () => {
    const configPath = await yamlConfig([
      "port: 0",
      "kafka:",
      `  brokers: [${serviceUrls.kafkaBrokers.map((b) => `"${b}"`).join(", ")}]`,
      `  clientId: main-test-${run}`,
      `  topics: { createPatterns: ["main-${run}-direct"] }`,
      "kafkaRest: { username: edgebus }",
      `redisRest: { url: "${serviceUrls.redis}", allowUnrestrictedUser: true }`,
      "mirror:",
      `  rename: [{ from: "gov.*", to: "main-${run}.gov.*" }]`,
    ]);
    const { child, log, exited, url } = await startListening(configPath, secrets);
    children.push(child);

    const health = await fetch(`${url}/healthz`);
    // `topics`: the catalogue topics' settings compared with the cluster (detail; never fails the check).
    expect(await health.json()).toMatchObject({
      status: "ok",
      checks: { kafka: "ok", redis: "ok" },
      topics: { status: expect.stringMatching(/^(in-sync|drift|unknown)$/) },
    });

    const kafka = new Kafka({ url: `${url}/kafka`, username: "edgebus", password: secrets.BRIDGE_KAFKA_REST_PASSWORD });
    const produced = await kafka.producer().produce(`main-${run}-direct`, "hi");
    expect(produced.offset).toBe(0);
    // Neither the catalogue's, a mirror rename of one, nor in createPatterns: a 404 naming it.
    const refused = await fetch(`${url}/kafka/produce/main-${run}-typo`, {
      method: "POST",
      body: JSON.stringify({ value: "x" }),
      headers: {
        authorization: `Basic ${btoa(`edgebus:${secrets.BRIDGE_KAFKA_REST_PASSWORD}`)}`,
        "content-type": "application/json",
      },
    });
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({
      code: "not_found",
      error: expect.stringContaining(`main-${run}-typo`),
    });

    const body = JSON.stringify({
      events: [
        {
          specversion: "1.0",
          id: `e-${run}`,
          source: "/test",
          type: "gov.auth.citizen.created",
          time: "2026-11-22T08:00:00Z",
          data: { a: 1 },
        },
      ],
    });
    const mirrored = await fetch(`${url}${MIRROR_PATH}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...(await signMirrorRequest(secrets.BRIDGE_MIRROR_SECRET, body)) },
    });
    const { results } = mirrorResponseSchema.parse(await mirrored.json());
    expect(results[0]).toMatchObject({ status: "acked", topic: `main-${run}.gov.auth.citizen`, offset: 0 });
    // Partitions from the catalogue (schemas/): gov.auth.citizen has 6; the rename keeps the suffix,
    // so the renamed topic is unknown to the catalogue and gets the default.
    expect((await kafka.admin().topics())[`main-${run}.gov.auth.citizen`]).toBe(3);

    const redis = await fetch(`${url}/redis`, {
      method: "POST",
      body: JSON.stringify(["PING"]),
      headers: { authorization: `Bearer ${secrets.BRIDGE_REDIS_REST_TOKEN}`, "content-type": "application/json" },
    });
    expect(await redis.json()).toMatchObject({ result: expect.anything() });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/edgebus_bridge_mirror_events_total\{status="acked"\} 1/);
    expect(metrics).toMatch(/edgebus_bridge_kafka_rest_produced_total 1/);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const records = log.records();
    expect(records.filter((record) => typeof record.component !== "string")).toEqual([]);
    // Started with the bridge's Node options (as npm run bridge starts it): nothing to warn about.
    expect(records.filter((record) => record.msg.startsWith("node was started without"))).toEqual([]);
    expect(records).toContainEqual(
      expect.objectContaining({ level: "info", msg: "closing: flushing the Kafka producer", note: "SIGTERM" }),
    );
  }, 60_000);

  it("serves when node was started without the bridge's Node options, and says which are missing", async () => {
    const configPath = await yamlConfig([
      "port: 0",
      "kafkaRest: { enabled: false }",
      `redisRest: { url: "${serviceUrls.redis}", allowUnrestrictedUser: true }`,
    ]);
    const { child, log, exited, url } = await startListening(
      configPath,
      { BRIDGE_REDIS_REST_TOKEN: secrets.BRIDGE_REDIS_REST_TOKEN },
      [],
    );
    children.push(child);
    const warning = log.records().find((record) => record.msg.startsWith("node was started without"));
    expect(warning, log.text()).toMatchObject({
      component: "bridge",
      msg: `node was started without ${BRIDGE_NODE_OPTIONS.join(" ")}`,
      note: expect.stringContaining("npm run bridge passes them"),
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 30_000);

  it("refuses an invalid config with a clear message and exit code 1", async () => {
    const dir = await configDir();
    const configPath = join(dir, "bridge.yaml");
    await writeFile(configPath, "port: not-a-port\nkafka: { brokers: [nohostport] }\n");
    const child = startMain(configPath, {
      KAFKA_BROKERS: "",
      BRIDGE_KAFKA_REST_USERNAME: "",
      BRIDGE_KAFKA_REST_PASSWORD: "",
    });
    children.push(child);
    const log = logOf(collectOutput(child));
    expect(await exitCode(child)).toBe(1);
    const failure = log.records().find((record) => record.msg === "cannot start");
    expect(failure, log.text()).toMatchObject({ level: "error", component: "bridge" });
    expect(failure?.error_message).toMatch(/invalid bridge config/);
    expect(failure?.error_message).toMatch(/port/);
    expect(failure?.error_message).toMatch(/host:port/);
  }, 30_000);
});
