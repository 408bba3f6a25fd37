/**
 * Broker faults under load, on PRIVATE servers this test starts and stops (never the machine's
 * shared RabbitMQ, NATS and Redis, which other suites use): events flow through the signed ingest
 * into RabbitMQ, NATS JetStream and Redis Streams at once while each broker in turn is stopped and
 * started again. The client behaves like the kafka-mirror Worker (a batch's events that are not
 * acked are sent again). Afterwards every acked event is in every broker, JetStream and Redis hold
 * no second copy, and the same target objects are connected again: they reconnected by themselves.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect as natsConnect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { Connection as AmqpConnection } from "rabbitmq-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { MIRROR_PATH, mirrorResponseSchema } from "#shared/mirror-protocol.ts";
import { signMirrorRequest } from "#shared/mirror-signature.ts";
import { isCI } from "../../../scripts/service-probe.ts";
import { scrubbedEnv } from "../../../test/support/child-env.ts";
import { createMirrorRoute } from "../mirror-route.ts";
import { TopicMapping } from "../topic-mapping.ts";
import { fromAmqpMessage, fromNatsMessage, fromStreamFields } from "./bindings.ts";
import type { MirrorTarget } from "./mirror-target.ts";
import { NatsTarget } from "./nats-target.ts";
import { RabbitMqTarget } from "./rabbitmq-target.ts";
import { RedisStreamsTarget } from "./redis-streams-target.ts";

const RABBIT_BIN = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const binaries =
  ["redis-server", "nats-server"].every((b) => spawnSync("sh", ["-c", `command -v ${b}`]).status === 0) &&
  spawnSync("test", ["-x", RABBIT_BIN]).status === 0;
if (!binaries) {
  const message = "mirror target faults: redis-server, nats-server or rabbitmq-server is not installed";
  if (isCI) throw new Error(`${message} (CI=true: a missing server fails the run)`);
  console.warn(`SKIPPED ${message}`);
}

const SECRET = "faults-test-secret-0123456789";
const base = 41_000 + Math.floor(Math.random() * 400) * 10;
const ports = { redis: base, nats: base + 1, amqp: base + 2, dist: base + 3 };
const dir = mkdtempSync(join(tmpdir(), "edgebus-target-faults-"));
const nodeName = `edgebus-faults-${base}@localhost`;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One private server: started, stopped (SIGTERM, waited for) and started again on the same data. */
class Server {
  #child: ChildProcess | undefined;
  readonly name: string;
  readonly port: number;
  readonly start: () => ChildProcess;

  constructor(name: string, port: number, start: () => ChildProcess) {
    this.name = name;
    this.port = port;
    this.start = start;
  }

  async up(): Promise<void> {
    this.#child = this.start();
    this.#child.stdout?.resume();
    this.#child.stderr?.resume();
    await waitFor(() => listening(this.port), `${this.name} listening on ${this.port}`);
  }

  async down(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await waitFor(async () => !(await listening(this.port)), `${this.name} stopped`);
  }
}

const env = scrubbedEnv();
const redisServer = new Server("redis", ports.redis, () =>
  spawn(
    "redis-server",
    ["--port", String(ports.redis), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes"].concat([
      "--appendfsync",
      "always",
    ]),
    { env },
  ),
);
const natsServer = new Server("nats", ports.nats, () =>
  spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(ports.nats), "-sd", join(dir, "nats")], { env }),
);
const rabbitServer = new Server("rabbitmq", ports.amqp, () => {
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  writeFileSync(join(dir, "rabbitmq.conf"), "loopback_users = none\n");
  return spawn(RABBIT_BIN, [], {
    env: {
      ...env,
      HOME: dir,
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_NODE_PORT: String(ports.amqp),
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_DIST_PORT: String(ports.dist),
      RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
      RABBITMQ_LOG_BASE: join(dir, "log"),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
      RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq"),
      RABBITMQ_FEATURE_FLAGS_FILE: join(dir, "feature_flags"),
      RABBITMQ_PID_FILE: join(dir, "rabbit.pid"),
    },
  });
});

const urls = {
  redis: `redis://127.0.0.1:${ports.redis}`,
  nats: `nats://127.0.0.1:${ports.nats}`,
  amqp: `amqp://guest:guest@127.0.0.1:${ports.amqp}`,
};

describe.runIf(binaries)("mirror targets under broker restarts (private servers)", () => {
  let targets: MirrorTarget[] = [];
  beforeAll(async () => {
    await Promise.all([redisServer.up(), natsServer.up(), rabbitServer.up()]);
    targets = [
      new RabbitMqTarget({
        url: urls.amqp,
        exchange: "edgebus",
        queues: [{ name: "faults", type: "quorum", bindingKeys: ["gov.#"] }],
        maxMessageBytes: 1_048_576,
        timeoutMs: 3000,
        mapping: new TopicMapping(),
        mode: "binary",
      }),
      new NatsTarget({
        url: urls.nats,
        subjectPrefix: "edgebus.",
        stream: {
          name: "EDGEBUS",
          subjects: ["edgebus.>"],
          retention: "limits",
          maxAgeSeconds: 3600,
          replicas: 1,
          duplicateWindowSeconds: 600,
        },
        timeoutMs: 3000,
        mapping: new TopicMapping(),
        mode: "binary",
      }),
      new RedisStreamsTarget({
        url: urls.redis,
        keyPrefix: "edgebus:",
        markerPrefix: "edgebus:mirror-seen:",
        maxLen: 0,
        dedupeTtlSeconds: 3600,
        maxMessageBytes: 1_048_576,
        timeoutMs: 2000,
        mapping: new TopicMapping(),
        mode: "binary",
      }),
    ];
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(targets.map((t) => t.close()));
    await Promise.allSettled([redisServer.down(), natsServer.down(), rabbitServer.down()]);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("loses nothing acked while RabbitMQ, NATS and Redis are each stopped and started, and reconnects by itself", async () => {
    const app = createMirrorRoute({ targets, secret: SECRET });
    const acked = new Set<string>();
    let waiting: CloudEventRecord[] = [];
    let next = 0;
    let failedAttempts = 0;
    let flowing = true;

    const sendOnce = async () => {
      while (waiting.length < 20) {
        next += 1;
        waiting.push({
          specversion: "1.0",
          id: `f-${next}`,
          source: "/faults",
          type: next % 2 ? "gov.auth.citizen.updated" : "gov.permits.application.submitted",
          time: new Date().toISOString(),
          datacontenttype: "application/json",
          data: { n: next },
          partitionkey: `k-${next % 5}`,
        });
      }
      const body = JSON.stringify({ events: waiting });
      const response = await app.request(MIRROR_PATH, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...(await signMirrorRequest(SECRET, body)) },
      });
      const { results } = mirrorResponseSchema.parse(await response.json());
      for (const r of results) if (r.status === "acked") acked.add(r.id);
      const failed = results.filter((r) => r.status === "failed");
      if (failed.length > 0) failedAttempts += 1;
      expect(failed.every((r) => r.error?.retryable)).toBe(true);
      // Like the Worker: what was not acked goes again (same events), the rest is done.
      waiting = waiting.filter((e) => !acked.has(e.id));
    };
    const load = (async () => {
      while (flowing) {
        await sendOnce();
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await pause(1500);
    for (const server of [redisServer, natsServer, rabbitServer]) {
      await server.down();
      await pause(2000);
      await server.up();
      await pause(2500);
    }
    flowing = false;
    await load;
    // Every target reconnects by itself (bounded per target; on a loaded CI machine a restarted
    // broker can take longer than the drain below to accept its client again)…
    for (const target of targets) {
      await waitFor(async () => target.connected, `${target.name} connected again`, 20_000);
      await target.probe();
    }
    // …and then whatever is still waiting must get through.
    for (let i = 0; i < 40 && waiting.length > 0; i++) {
      await sendOnce();
      if (waiting.length > 0) await pause(500);
    }
    expect(waiting).toEqual([]);
    expect(failedAttempts).toBeGreaterThan(0);
    expect(acked.size).toBeGreaterThan(100);

    // RabbitMQ: the bound quorum queue, with an AMQP consumer.
    const amqp = new AmqpConnection(urls.amqp);
    const inRabbit: string[] = [];
    const consumer = amqp.createConsumer({ queue: "faults", queueOptions: { passive: true } }, async (m) => {
      const decoded = fromAmqpMessage(m);
      if (decoded.ok) inRabbit.push(decoded.event.id);
    });
    await waitFor(async () => new Set(inRabbit).size >= acked.size, "every acked event in RabbitMQ", 20_000).catch(
      () => undefined,
    );
    await consumer.close();
    await amqp.close();

    // JetStream: every message of the stream.
    const nc = await natsConnect({ servers: urls.nats });
    const js = jetstream(nc);
    const inNats: string[] = [];
    const natsConsumer = await js.consumers.get("EDGEBUS");
    const batch = await natsConsumer.fetch({ max_messages: acked.size + 500, expires: 3000 });
    for await (const m of batch) {
      const headers: [string, string][] = [];
      for (const [name, values] of m.headers ?? []) for (const v of values) headers.push([name, v]);
      const decoded = fromNatsMessage(headers, m.data);
      if (decoded.ok) inNats.push(decoded.event.id);
    }
    await nc.drain();

    // Redis Streams: XRANGE over both streams.
    const redis = new Redis(urls.redis);
    const inRedis: string[] = [];
    for (const key of ["edgebus:gov.auth.citizen", "edgebus:gov.permits.application"]) {
      for (const [, fields] of await redis.xrangeBuffer(key, "-", "+")) {
        const decoded = fromStreamFields(fields);
        if (decoded.ok) inRedis.push(decoded.event.id);
      }
    }
    await redis.quit();

    const missing = (stored: string[]) => [...acked].filter((id) => !new Set(stored).has(id));
    expect(missing(inRabbit)).toEqual([]);
    expect(missing(inNats)).toEqual([]);
    expect(missing(inRedis)).toEqual([]);
    // The brokers that can deduplicate stored each event once, redeliveries included.
    expect(inNats.length).toBe(new Set(inNats).size);
    expect(inRedis.length).toBe(new Set(inRedis).size);
    console.log(
      `target faults: ${acked.size} events acked, ${failedAttempts} attempts with failures; RabbitMQ held ${inRabbit.length} (${inRabbit.length - new Set(inRabbit).size} redelivered copies), JetStream ${inNats.length}, Redis ${inRedis.length}`,
    );
  }, 240_000);
});
