/**
 * Bundles every Worker the way `wrangler deploy --env production` would (`--dry-run --outdir`),
 * reports each bundle's raw and gzipped size, and fails when one exceeds Cloudflare's upload limit
 * for the Workers Free plan (1 MiB gzipped; paid plans allow 10 MiB, staying under 1 MiB keeps
 * both open). Each config's top level (what `wrangler dev` and the tests use) is dry-run too.
 *
 * Usage: `npm run check:bundles` (CI runs it from `.ci/run`). A bundle that does not build, or a
 * config whose `[env.production]` wrangler refuses, fails the check too: that is the same failure
 * `wrangler deploy --env production` would hit.
 */

/** The environment whose bundles are measured: what gets deployed. */
export const DEPLOYED_ENV = "production";

import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const GZIP_LIMIT_BYTES = 1024 * 1024;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface BundleReport {
  config: string;
  rawBytes: number;
  gzipBytes: number;
  /** Set when `wrangler deploy --dry-run` itself failed; sizes are 0 then. */
  error?: string;
}

/** The producer's `wrangler.toml` first, then every `workers/<name>/wrangler*.toml` (one per deployable Worker). */
export async function findWorkerConfigs(repoRoot = root): Promise<string[]> {
  const configs = ["wrangler.toml"];
  const workers = await readdir(path.join(repoRoot, "workers"), { withFileTypes: true });
  for (const worker of workers.filter((entry) => entry.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const files = await readdir(path.join(repoRoot, "workers", worker.name));
    for (const file of files.filter((name) => /^wrangler(\.[\w-]+)?\.toml$/.test(name)).sort()) {
      configs.push(path.join("workers", worker.name, file));
    }
  }
  return configs;
}

function runWrangler(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("npx", ["wrangler", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("exit", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Sum of every JavaScript/WASM module wrangler wrote: that is what gets uploaded. */
async function measure(outdir: string): Promise<{ rawBytes: number; gzipBytes: number }> {
  let rawBytes = 0;
  let gzipBytes = 0;
  const entries = await readdir(outdir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile() || !/\.(m?js|wasm)$/.test(entry.name)) continue;
    const bytes = await readFile(path.join(entry.parentPath, entry.name));
    rawBytes += bytes.length;
    gzipBytes += gzipSync(bytes, { level: 9 }).length;
  }
  return { rawBytes, gzipBytes };
}

export async function checkBundle(config: string, outRoot: string): Promise<BundleReport> {
  const failed = (what: string, code: number, output: string) => {
    const lastLines = output.trim().split("\n").slice(-15).join("\n");
    return { config, rawBytes: 0, gzipBytes: 0, error: `${what}: wrangler exit ${code}\n${lastLines}` };
  };
  const topLevel = await runWrangler(["deploy", "--dry-run", "-c", config]);
  if (topLevel.code !== 0) return failed("wrangler deploy --dry-run", topLevel.code, topLevel.output);
  const outdir = path.join(outRoot, config.replaceAll(/[/\\.]/g, "_"));
  const deployed = await runWrangler(["deploy", "--dry-run", "--env", DEPLOYED_ENV, "--outdir", outdir, "-c", config]);
  if (deployed.code !== 0)
    return failed(`wrangler deploy --dry-run --env ${DEPLOYED_ENV}`, deployed.code, deployed.output);
  return { config, ...(await measure(outdir)) };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<number> {
  const outRoot = await mkdtemp(path.join(tmpdir(), "edgebus-bundles-"));
  try {
    const reports: BundleReport[] = [];
    for (const config of await findWorkerConfigs()) {
      // Sequential: wrangler's esbuild runs are CPU-bound and CI machines are small.
      reports.push(await checkBundle(config, outRoot));
    }
    let failed = 0;
    for (const report of reports) {
      if (report.error) {
        failed += 1;
        console.log(`FAIL ${report.config}: bundling failed\n${report.error}`);
      } else if (report.gzipBytes > GZIP_LIMIT_BYTES) {
        failed += 1;
        console.log(`FAIL ${report.config}: ${kib(report.gzipBytes)} gzipped exceeds ${kib(GZIP_LIMIT_BYTES)}`);
      } else {
        console.log(
          `ok   ${report.config} (--env ${DEPLOYED_ENV}): ${kib(report.rawBytes)} raw, ${kib(report.gzipBytes)} gzipped`,
        );
      }
    }
    console.log(
      `${reports.length - failed} of ${reports.length} Worker bundle(s) within ${kib(GZIP_LIMIT_BYTES)} gzipped`,
    );
    return failed === 0 ? 0 : 1;
  } finally {
    await rm(outRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
