/**
 * The processes of the scale-out suite: bridges started as an operator starts them
 * (`node bridges/main.ts --config …`, secrets in the environment), and nginx from
 * Debian's package running the documented load-balancer file `ops/bridge-lb/nginx.conf`, as an
 * unprivileged child process with its own prefix, pid and log files. Node only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chown, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { collectOutput, startBridgeChild } from "../support/child-process.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const NGINX = "/usr/sbin/nginx";
export const HAPROXY = "/usr/sbin/haproxy";
/** Debian's unprivileged account, for when the suite itself runs as root (CI containers). */
const NOBODY = { uid: 65534, gid: 65534 };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${ms} ms:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface ChildHandle {
  readonly port: number;
  readonly pid: number;
  output(): string;
  alive(): boolean;
  /** SIGKILL: the process gets no chance to close anything (a crash, an OOM kill, a lost host). */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * `child`, listening on `port`, as a handle; `stop` sends SIGTERM (then SIGKILL after
 * `killAfterMs`, when given), waits for the exit and removes `dir`.
 */
function handleOf(
  child: ChildProcess,
  port: number,
  output: () => string,
  dir: string,
  killAfterMs?: number,
): ChildHandle {
  return {
    port,
    pid: child.pid as number,
    output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
        await exited(child);
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface BridgeSettings {
  /** Written to the bridge's config file. */
  readonly config: Record<string, unknown>;
  /** Secrets and addresses, as environment variables. */
  readonly env: Record<string, string>;
}

export async function startBridge(settings: BridgeSettings): Promise<ChildHandle> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "edgebus-scale-out-bridge-"));
  const configFile = join(dir, "bridge.json");
  await writeFile(configFile, JSON.stringify(settings.config));
  try {
    const { child, output } = await startBridgeChild(
      configFile,
      { ...settings.env, BRIDGE_PORT: String(port) },
      90_000,
    );
    return handleOf(child, port, output, dir, 15_000);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * `ops/bridge-lb/nginx.conf` with the example bridges replaced by `upstreams` and its port by
 * `port`, its access log in `dir`, plus `X-Edgebus-Bridge: <upstream address>` on every answer so
 * the suite can tell which bridge served a call.
 */
export async function renderNginxSite(port: number, upstreams: readonly number[], dir: string): Promise<string> {
  const documented = await readFile(join(REPO_ROOT, "ops/bridge-lb/nginx.conf"), "utf8");
  const examples = documented.match(/^\s*server 10\.0\.0\.\d+:8788 .*$/gm) ?? [];
  if (examples.length !== 2) throw new Error("ops/bridge-lb/nginx.conf: expected two example bridge servers");
  const options = (examples[0] as string).replace(/^\s*server \S+ /, "");
  return documented
    .replace(examples[0] as string, upstreams.map((p) => `    server 127.0.0.1:${p} ${options}`).join("\n"))
    .replace(`${examples[1] as string}\n`, "")
    .replace(/listen 8080;/, `listen 127.0.0.1:${port};`)
    .replace(/access_log \S+ edgebus_bridge;/, `access_log ${dir}/access.log edgebus_bridge;`)
    .replace(/(location \/ \{\n)/, "$1        add_header X-Edgebus-Bridge $upstream_addr always;\n");
}

/** nginx in the foreground with the rendered site, as `nobody` when the suite runs as root. */
export async function startNginx(upstreams: readonly number[]): Promise<ChildHandle> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "edgebus-scale-out-nginx-"));
  const site = join(dir, "edgebus-bridge.conf");
  await writeFile(site, await renderNginxSite(port, upstreams, dir));
  const main = join(dir, "nginx.conf");
  await writeFile(
    main,
    [
      "worker_processes 1;",
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      "events { worker_connections 1024; }",
      "http {",
      `  client_body_temp_path ${dir}/client_body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fastcgi;`,
      `  uwsgi_temp_path ${dir}/uwsgi;`,
      `  scgi_temp_path ${dir}/scgi;`,
      `  include ${site};`,
      "}",
    ].join("\n"),
  );
  const root = process.getuid?.() === 0;
  if (root) await chown(dir, NOBODY.uid, NOBODY.gid);
  const child = spawn(NGINX, ["-p", dir, "-c", main, "-e", `${dir}/error.log`, "-g", "daemon off;"], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(root ? NOBODY : {}),
  });
  const output = collectOutput(child);
  const errorLog = async () => readFile(join(dir, "error.log"), "utf8").catch(() => "");
  let logText = "";
  try {
    await waitForPort(port, 10_000, () => `${output()}\n${logText}`);
  } catch (error) {
    logText = await errorLog();
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${logText}`);
  }
  // Stopped with TERM: fast shutdown of the master and its worker.
  return handleOf(child, port, output, dir);
}

/**
 * `ops/bridge-lb/haproxy.cfg` with the example bridges replaced by `upstreams`, its port by
 * `port`, its error file from beside it, plus `X-Edgebus-Bridge: <server name>` on answers.
 */
export async function renderHaproxyConfig(port: number, upstreams: readonly number[]): Promise<string> {
  const documented = await readFile(join(REPO_ROOT, "ops/bridge-lb/haproxy.cfg"), "utf8");
  const examples = documented.match(/^\s*server bridge-\d+ 10\.0\.0\.\d+:8788.*$/gm) ?? [];
  if (examples.length !== 2) throw new Error("ops/bridge-lb/haproxy.cfg: expected two example bridge servers");
  return documented
    .replace(examples[0] as string, upstreams.map((p, i) => `    server bridge-${i + 1} 127.0.0.1:${p}`).join("\n"))
    .replace(`${examples[1] as string}\n`, "")
    .replace(/bind :8080/, `bind 127.0.0.1:${port}`)
    .replaceAll("/etc/haproxy/errors/edgebus-503.http", join(REPO_ROOT, "ops/bridge-lb/edgebus-503.http"))
    .replace(/(backend edgebus_bridges\n)/, "$1    http-response set-header X-Edgebus-Bridge %[srv_name]\n");
}

/** HAProxy in the foreground (`-db`) with the rendered configuration, as `nobody` when run as root. */
export async function startHaproxy(upstreams: readonly number[]): Promise<ChildHandle> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "edgebus-scale-out-haproxy-"));
  const config = join(dir, "haproxy.cfg");
  await writeFile(config, await renderHaproxyConfig(port, upstreams));
  const root = process.getuid?.() === 0;
  if (root) await chown(dir, NOBODY.uid, NOBODY.gid);
  const child = spawn(HAPROXY, ["-db", "-f", config], { stdio: ["ignore", "pipe", "pipe"], ...(root ? NOBODY : {}) });
  const output = collectOutput(child);
  try {
    await waitForPort(port, 10_000, output);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return handleOf(child, port, output, dir);
}

/** `haproxy -c`: the configuration's own check. */
export async function checkHaproxyConfig(config: string): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), "edgebus-scale-out-haproxy-check-"));
  const file = join(dir, "haproxy.cfg");
  await writeFile(file, config);
  const child = spawn(HAPROXY, ["-c", "-f", file], { stdio: ["ignore", "pipe", "pipe"] });
  const output = collectOutput(child);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  await rm(dir, { recursive: true, force: true });
  return { ok: code === 0, output: output() };
}
