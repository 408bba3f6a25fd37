/**
 * The chaos run's two extra mirror targets: a private NATS server with JetStream and a private
 * RabbitMQ node, started in the run's work folder on ports next to the bridge's (never the
 * machine's shared servers), restarted as faults, and read back at the end to check that every
 * event the mirror acked is in both (JetStream without second copies).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect as natsConnect } from "@nats-io/transport-node";
import { Connection as AmqpConnection } from "rabbitmq-client";
import { fromAmqpMessage, fromNatsMessage } from "../../bridges/mirror/targets/bindings.ts";
import { canConnect } from "../../scripts/service-probe.ts";
import { scrubbedEnv } from "../support/child-env.ts";

export const RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
/** The bound quorum queue the chaos bridge's RabbitMQ target declares. */
export const CHAOS_QUEUE = "chaos-mirror";
export const CHAOS_STREAM = "EDGEBUS";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** NATS and RabbitMQ ports: next to the bridge's, so they move with the run's port set. */
export function brokerPorts(bridgePort: number): { nats: number; amqp: number; amqpDist: number } {
  return { nats: bridgePort + 2, amqp: bridgePort + 3, amqpDist: bridgePort + 4 };
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms / 1000} s`);
    await sleep(250);
  }
}

/** One private broker process: start, stop (SIGTERM, waited for), restart on the same data. */
export class PrivateBroker {
  #child: ChildProcess | undefined;
  readonly name: string;
  readonly port: number;
  /** Where its pid is written, for the reaper of an abandoned run. */
  readonly pidFile: string;
  readonly launch: () => Promise<ChildProcess>;

  constructor(name: string, port: number, pidFile: string, launch: () => Promise<ChildProcess>) {
    this.name = name;
    this.port = port;
    this.pidFile = pidFile;
    this.launch = launch;
  }

  async start(): Promise<void> {
    const child = await this.launch();
    this.#child = child;
    if (child.pid !== undefined) await writeFile(this.pidFile, String(child.pid));
    await until(`${this.name} listening on ${this.port}`, () => canConnect("127.0.0.1", this.port, 300), 120_000);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, sleep(30_000)]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  }

  async restart(downMs: number): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.start();
  }
}

/** The run's NATS (JetStream, file store in the work folder). */
export function privateNats(workDir: string, port: number): PrivateBroker {
  const dir = path.join(workDir, "nats");
  return new PrivateBroker("NATS", port, path.join(workDir, "nats.pid"), async () => {
    await mkdir(dir, { recursive: true });
    const { openSync } = await import("node:fs");
    const out = openSync(path.join(workDir, "nats.log"), "a");
    return spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir], {
      env: scrubbedEnv(),
      stdio: ["ignore", out, out],
    });
  });
}

/** The run's RabbitMQ node (its own node name, Mnesia and logs in the work folder). */
export function privateRabbitMq(workDir: string, ports: { amqp: number; amqpDist: number }): PrivateBroker {
  const dir = path.join(workDir, "rabbitmq");
  return new PrivateBroker("RabbitMQ", ports.amqp, path.join(workDir, "rabbitmq.pid"), async () => {
    await mkdir(path.join(dir, "mnesia"), { recursive: true });
    await mkdir(path.join(dir, "log"), { recursive: true });
    await writeFile(path.join(dir, "enabled_plugins"), "[].\n");
    await writeFile(path.join(dir, "rabbitmq.conf"), "loopback_users = none\n");
    const { openSync } = await import("node:fs");
    const out = openSync(path.join(workDir, "rabbitmq.log"), "a");
    return spawn(RABBITMQ_SERVER, [], {
      env: scrubbedEnv({
        HOME: dir,
        RABBITMQ_NODENAME: `edgebus-chaos-${ports.amqp}@localhost`,
        RABBITMQ_NODE_PORT: String(ports.amqp),
        RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
        RABBITMQ_DIST_PORT: String(ports.amqpDist),
        RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
        RABBITMQ_LOG_BASE: path.join(dir, "log"),
        RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
        RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq"),
        RABBITMQ_FEATURE_FLAGS_FILE: path.join(dir, "feature_flags"),
        RABBITMQ_PID_FILE: path.join(dir, "rabbit.pid"),
      }),
      stdio: ["ignore", out, out],
    });
  });
}

/** SIGKILLs the brokers an abandoned run left in `dir` (pids it recorded, checked to be those servers). */
export async function stopAbandonedBrokers(dir: string): Promise<void> {
  for (const [file, command] of [
    ["nats.pid", "nats-server"],
    ["rabbitmq.pid", "rabbitmq"],
    [path.join("rabbitmq", "rabbit.pid"), "beam"],
  ] as const) {
    const pidPath = path.join(dir, file);
    if (!existsSync(pidPath)) continue;
    const pid = Number((await readFile(pidPath, "utf8")).trim());
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(command)) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** The CloudEvents ids (`source id`) the private brokers hold: RabbitMQ's queue, JetStream's stream. */
export async function readTargets(ports: { nats: number; amqp: number }): Promise<{
  rabbitmq: string[];
  nats: string[];
}> {
  const amqp = new AmqpConnection(`amqp://guest:guest@127.0.0.1:${ports.amqp}`);
  const rabbitmq: string[] = [];
  let last = Date.now();
  const consumer = amqp.createConsumer({ queue: CHAOS_QUEUE, queueOptions: { passive: true } }, async (message) => {
    last = Date.now();
    const decoded = fromAmqpMessage(message);
    if (decoded.ok) rabbitmq.push(`${decoded.event.source} ${decoded.event.id}`);
  });
  // The queue is drained (the audit owns it): wait until nothing arrives for 2 s.
  const started = Date.now();
  while (Date.now() - last < 2000 && Date.now() - started < 120_000) await sleep(250);
  await consumer.close();
  await amqp.close();

  const nc = await natsConnect({ servers: `nats://127.0.0.1:${ports.nats}` });
  const nats: string[] = [];
  const reader = await jetstream(nc).consumers.get(CHAOS_STREAM);
  for (;;) {
    const batch = await reader.fetch({ max_messages: 1000, expires: 2000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      const headers: [string, string][] = [];
      for (const [name, values] of m.headers ?? []) for (const v of values) headers.push([name, v]);
      const decoded = fromNatsMessage(headers, m.data);
      if (decoded.ok) nats.push(`${decoded.event.source} ${decoded.event.id}`);
    }
    if (got === 0) break;
  }
  await nc.drain();
  return { rabbitmq, nats };
}
