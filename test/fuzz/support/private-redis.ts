/**
 * A Redis server of the suite's own (`redis-server` from PATH, in memory, on a free port in
 * engineer D's range 48700–48799), so that counting the keys a request created is not disturbed
 * by other suites sharing the machine's Redis. Node only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { canConnect } from "../../../scripts/service-probe.ts";

export interface PrivateRedis {
  readonly url: string;
  stop(): Promise<void>;
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

/** Starts `redis-server`; rejects when the binary is missing or the server does not come up in 10 s. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
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
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
