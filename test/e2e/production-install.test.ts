/**
 * The bridge and the VPS consumer service run from an install without devDependencies, as
 * docs/deployment.md and docs/deployment-vps-rabbitmq.md install them (`npm ci --omit=dev`):
 * Node strips the TypeScript types itself, so neither tsx nor any other devDependency is needed
 * at run time.
 *
 * The checkout's runtime files (package manifests, bridges/, shared/, schemas/, ops/, the Node
 * launcher) are copied into a temporary folder, `npm ci --omit=dev` installs there (from npm's
 * cache when it holds the packages, as it does after the checkout's own `npm ci`), and then:
 * - `npm run bridge -- --print-redis-acl` loads the bridge's whole import graph (every module of
 *   `bridges/main.ts` is imported statically) and prints the ACL line;
 * - `node ops/vps-rabbitmq/consumer.ts` consumes a queue of the real RabbitMQ (declared here, as
 *   the bridge would) and stops on SIGTERM;
 * - the operator's tools: `npm run migrate` migrates a fresh database of the real Postgres, and
 *   `npm run edgebus -- --help` loads the whole CLI.
 */
import { execFile, spawn } from "node:child_process";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import postgres from "postgres";
import { Connection } from "rabbitmq-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { scrubbedEnv } from "../support/child-env.ts";
import { requireService } from "../support/services.ts";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** What a production install takes from a checkout: the code without its tests. */
const RUNTIME = [
  "package.json",
  "package-lock.json",
  "bridges",
  "shared",
  "schemas",
  "ops",
  "scripts",
  "workers",
  "migrations",
];
const TEST_FILE = /\.(test|workerd-test)\.(ts|mts|mjs)$/;

let dir: string;

/**
 * The child's environment: the developer's settings scrubbed, and no `node_modules/.bin` folder on
 * PATH (npm and npx put the checkout's there, which would lend the install its devDependencies).
 */
function productionEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = scrubbedEnv(overrides);
  env.PATH = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((folder) => !folder.split(path.sep).includes("node_modules"))
    .join(path.delimiter);
  return env;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "edgebus-production-install-"));
  for (const entry of RUNTIME) {
    await cp(path.join(root, entry), path.join(dir, entry), {
      recursive: true,
      filter: (source) => !source.includes(`${path.sep}node_modules`) && !TEST_FILE.test(source),
    });
  }
  await run("npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: dir,
    env: productionEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
}, 300_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("an install without devDependencies (npm ci --omit=dev)", () => {
  it("holds no devDependency: tsx, vitest and wrangler are absent", async () => {
    const installed = new Set(await readdir(path.join(dir, "node_modules")));
    for (const devOnly of ["tsx", "vitest", "wrangler", "typescript"]) expect(installed.has(devOnly)).toBe(false);
    expect(installed.has("yaml")).toBe(true);
  });

  it("runs the bridge: `npm run bridge -- --print-redis-acl` loads every module and prints the ACL line", {
    timeout: 60_000,
  }, async () => {
    const { stdout } = await run("npm", ["run", "-s", "bridge", "--", "--print-redis-acl"], {
      cwd: dir,
      env: productionEnv(),
    });
    expect(stdout).toMatch(/^ACL SETUSER \S+ /m);
  });

  it("runs the VPS consumer service under Node itself: it starts reading, and stops on SIGTERM", {
    timeout: 60_000,
  }, async () => {
    if (!(await requireService("rabbitmq", "production install: VPS consumer"))) return;
    const queue = `edgebus-production-install-${process.pid}`;
    // The bridge declares the queue in a deployment; the consumer only looks it up (passive).
    const rabbit = new Connection("amqp://guest:guest@127.0.0.1:5672");
    await rabbit.queueDeclare({ queue, durable: false });
    const child = spawn(process.execPath, ["ops/vps-rabbitmq/consumer.ts"], {
      cwd: dir,
      env: productionEnv({ RABBITMQ_URL: "amqp://guest:guest@127.0.0.1:5672", QUEUE: queue }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await vi.waitFor(() => expect(output).toContain(`consumer: reading ${queue}`), { timeout: 20_000 });
      // Consuming: the queue has the service's consumer, and no error was reported.
      await vi.waitFor(
        async () => expect((await rabbit.queueDeclare({ queue, passive: true })).consumerCount).toBe(1),
        {
          timeout: 20_000,
        },
      );
    } finally {
      child.kill("SIGTERM");
      await exited;
      await rabbit.queueDelete({ queue });
      await rabbit.close();
    }
    expect(await exited).toBe(0);
    expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (package|module)|NOT_FOUND/);
  });
  it("runs the operator's tools: `npm run migrate` on a fresh database, `npm run edgebus -- --help`", {
    timeout: 120_000,
  }, async () => {
    if (!(await requireService("postgres", "production install: migrate"))) return;
    const admin = postgres(serviceUrls.postgres, { max: 1, onnotice: () => {} });
    const database = `edgebus_production_install_${process.pid}_${Date.now()}`;
    await admin.unsafe(`create database ${database}`);
    try {
      const url = new URL(serviceUrls.postgres);
      url.pathname = `/${database}`;
      await run("npm", ["run", "-s", "migrate"], { cwd: dir, env: productionEnv({ DATABASE_URL: url.toString() }) });
      const migrated = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        const [{ count }] =
          (await migrated`select count(*)::int as count from public.schema_migrations`) as unknown as [
            { count: number },
          ];
        const files = (await readdir(path.join(dir, "migrations"))).filter((file) => /^\d{4}_.*\.sql$/.test(file));
        expect(count).toBe(files.length);
      } finally {
        await migrated.end();
      }
    } finally {
      await admin.unsafe(`drop database if exists ${database} with (force)`);
      await admin.end();
    }
    const { stdout } = await run("npm", ["run", "-s", "edgebus", "--", "--help"], { cwd: dir, env: productionEnv() });
    expect(stdout).toContain("Usage: npm run edgebus");
  });
});
