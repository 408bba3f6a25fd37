/**
 * A Redis server of the suite's own (`redis-server` from PATH, in memory, on a free port in
 * engineer D's range 48700–48799): for counting the keys a request created without other suites
 * disturbing the count, and for hostile tests that must never touch the machine's shared Redis
 * (a runaway script, a FLUSHALL that slips through). Node only.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { canConnect, isCI } from "../../../scripts/service-probe.ts";

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /**
   * Milliseconds a script may run before Redis answers other clients `BUSY` and accepts
   * `SCRIPT KILL` (`busy-reply-threshold`, Redis's default 5000). Tests of runaway scripts set
   * it low so a stalled Redis costs them a fraction of a second.
   */
  readonly busyReplyThresholdMs?: number;
}

const PORT_RANGE = { first: 48_700, last: 48_799 };

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free TCP port in engineer D's range (48700–48799), starting at a random place in it. */
export async function freePort(): Promise<number> {
  const offset = Math.floor(Math.random() * (PORT_RANGE.last - PORT_RANGE.first + 1));
  for (let i = 0; i <= PORT_RANGE.last - PORT_RANGE.first; i++) {
    const port = PORT_RANGE.first + ((offset + i) % (PORT_RANGE.last - PORT_RANGE.first + 1));
    if (await portIsFree(port)) return port;
  }
  throw new Error(`no free port in ${PORT_RANGE.first}–${PORT_RANGE.last}`);
}

/**
 * Call at the top of a suite that starts a private Redis: true when `redis-server` is on PATH.
 * Missing: throws under CI (a CI run must never pass by skipping), otherwise says why the suite is
 * skipped and returns false.
 */
export function requireRedisServerBinary(suite: string): boolean {
  const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  if (probe.error === undefined && probe.status === 0) return true;
  const message = `${suite}: redis-server is not on PATH — install Redis`;
  if (isCI) throw new Error(`${message} (CI=true: a missing server fails the run)`);
  console.warn(`SKIPPED ${message}`);
  return false;
}

/** Starts `redis-server`; rejects when the binary is missing or the server does not come up in 10 s. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  args.push("--loglevel", "warning");
  if (options.busyReplyThresholdMs !== undefined) {
    args.push("--busy-reply-threshold", String(options.busyReplyThresholdMs));
  }
  const child: ChildProcess = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<never>((_, reject) => {
    child.once("error", (error) => reject(new Error(`cannot start redis-server: ${error.message}`)));
    child.once("exit", (code) => reject(new Error(`redis-server exited early (code ${code})`)));
  });
  const ready = (async () => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await canConnect("127.0.0.1", port, 500)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`redis-server on port ${port} did not accept connections within 10 s`);
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  exited.catch(() => undefined);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    // SIGKILL, not SIGTERM: a server stalled by a runaway script (the point of some tests) does
    // not act on SIGTERM until the script ends, and nothing in memory needs saving.
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}
