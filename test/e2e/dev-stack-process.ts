/**
 * `npm run dev` (scripts/dev.ts) as a child process, for end-to-end suites: the suite's own ports
 * and a temporary `--data-dir`, an environment in which only the caller's settings select servers
 * (DATABASE_URL, KAFKA_BROKERS, REDIS_URL and EDGEBUS_DEV_API_KEY are not inherited), ready once
 * `<data-dir>/dev-stack.json` exists, stopped by signalling its process group (dev.ts then stops
 * everything it started: wrangler dev, bridge, provider, embedded Postgres).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll } from "vitest";
import { z } from "zod";
import { scrubbedEnv } from "../support/child-env.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** wrangler dev bundles seven Workers; on a loaded two-core machine that takes over a minute. */
const READY_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 45_000;
const OUTPUT_LIMIT = 200_000;

/** What dev.ts writes to `dev-stack.json` once the stack answers. */
export const devStackInfoSchema = z.object({
  producer: z.string().url(),
  apiKey: z.string().min(1),
  providerUrl: z.string().url(),
  databaseUrl: z.string().min(1),
  bridge: z
    .object({
      url: z.string().url(),
      kafkaRest: z.object({ username: z.string(), password: z.string() }).optional(),
      redisRest: z.object({ token: z.string() }).optional(),
      mirrorSecret: z.string().optional(),
    })
    .nullable(),
  kafkaBrokers: z.string().optional(),
  /** The notifier's VAPID public key for this run (a push subscription's applicationServerKey). */
  vapidPublicKey: z.string().optional(),
});
export type DevStackInfo = z.infer<typeof devStackInfoSchema>;

export interface DevStackOptions {
  readonly port: number;
  readonly bridgePort: number;
  readonly providerPort: number;
  /** The embedded Postgres' port (used only without DATABASE_URL). */
  readonly postgresPort?: number;
  /** DATABASE_URL, KAFKA_BROKERS, REDIS_URL, EDGEBUS_DEV_API_KEY…; unset ones stay unset. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface RunningDevStack {
  readonly info: DevStackInfo;
  readonly dataDir: string;
  /** Everything dev.ts and its children printed so far (stdout and stderr, the last 200 kB). */
  output(): string;
  /**
   * For a failed test: the output's tail, and a warning when wrangler dev reloaded because a file
   * in the checkout changed during the run — a reload drops local queue messages in flight (e.g.
   * one waiting for its retry), so a test that waits for them cannot pass.
   */
  failureReport(): string;
  /** Stops the stack and removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export async function startDevStack(options: DevStackOptions): Promise<RunningDevStack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "edgebus-e2e-"));
  const env = scrubbedEnv(options.env);
  const args = [
    "--import",
    "tsx",
    "scripts/dev.ts",
    "--port",
    String(options.port),
    "--bridge-port",
    String(options.bridgePort),
    "--provider-port",
    String(options.providerPort),
    ...(options.postgresPort === undefined ? [] : ["--postgres-port", String(options.postgresPort)]),
    "--data-dir",
    dataDir,
  ];
  // Its own process group, so stopping reaches dev.ts however it was started.
  const child = spawn(process.execPath, args, { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = exitOf(child);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      signalGroup(child, "SIGTERM");
      const killer = setTimeout(() => signalGroup(child, "SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killer);
      await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const stackFile = path.join(dataDir, "dev-stack.json");
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`npm run dev exited before it was ready:\n${output.slice(-4000)}`);
    }
    const text = await readFile(stackFile, "utf8").catch(() => undefined);
    if (text !== undefined) {
      const info = devStackInfoSchema.parse(JSON.parse(text));
      const failureReport = () => {
        const reloads = output.split("Reloading local server").length - 1;
        const warning =
          reloads > 0
            ? `WARNING: wrangler dev reloaded ${reloads} time(s) during the run (files in the checkout changed); local queue messages in flight were lost.\n`
            : "";
        return `${warning}npm run dev output (last 30 kB):\n${output.slice(-30_000)}`;
      };
      return { info, dataDir, output: () => output, failureReport, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`npm run dev was not ready within ${READY_TIMEOUT_MS / 1000}s:\n${output.slice(-4000)}`);
}

/**
 * A dev stack for the enclosing `describe`: started in `beforeAll` (after the hooks registered
 * before this call, so `options` may use what they prepared), stopped in `afterAll` (before those
 * hooks' `afterAll`), and its output printed when a test fails — easier to read with what the
 * Workers logged. `stack` throws when read before the stack started.
 */
export function useDevStack(options: () => DevStackOptions | Promise<DevStackOptions>): {
  readonly stack: RunningDevStack;
} {
  let running: RunningDevStack | undefined;
  beforeAll(async () => {
    running = await startDevStack(await options());
  }, READY_TIMEOUT_MS + 60_000);
  afterAll(async () => {
    await running?.stop();
  }, STOP_TIMEOUT_MS + 15_000);
  afterEach(({ task }) => {
    if (task.result?.state === "fail" && running) console.error(running.failureReport());
  });
  return {
    get stack(): RunningDevStack {
      if (running === undefined) throw new Error("the dev stack is not running (its beforeAll failed or has not run)");
      return running;
    },
  };
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes; then throws with `what`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 500 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const reason = last instanceof Error ? ` (last error: ${last.message})` : "";
  throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000}s${reason}`);
}

/**
 * A request to the stack's producer with a bearer key (the stack's own unless given), a JSON body
 * when there is one; the answer's status and its JSON body (an empty body reads as `{}`).
 */
export async function stackApi(
  info: DevStackInfo,
  method: string,
  route: string,
  body?: unknown,
  key = info.apiKey,
  // biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field and asserted
): Promise<{ status: number; json: Record<string, any> }> {
  const response = await fetch(`${info.producer}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === "" ? {} : JSON.parse(text) };
}

/** The CLI as an operator runs it (`npm run edgebus -- …`, not on a terminal), against the stack with its key. */
export function stackCli(
  info: DevStackInfo,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["scripts/edgebus-cli.ts", ...args], {
      cwd: root,
      env: scrubbedEnv({ EDGEBUS_API_URL: info.producer, EDGEBUS_API_KEY: info.apiKey }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
