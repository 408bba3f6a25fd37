/**
 * `npm run bench [-- <name>…] [--quick] [--compare]`: runs the benchmarks (all, or those named),
 * writes `bench/results/<name>.json` + `.svg` for each, then regenerates the tables in
 * bench/README.md and the top README from every result file. `--quick` runs a short form that
 * checks the machinery: its results go to a temporary folder, never over the committed figures.
 * `--compare` prints each ratio of this run next to the committed one.
 *
 * Services: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/edgebus_bench, created and
 * migrated when missing), KAFKA_BROKERS (default 127.0.0.1:9092), REDIS_URL (default
 * redis://127.0.0.1:6379). Benchmarks never delete data; they use fresh ids and topics.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { migrate } from "../scripts/migrate.ts";
import { bridgeProduceBenchmark } from "./bridge-produce.ts";
import { bridgeSoakBenchmark } from "./bridge-soak.ts";
import { citizenSyncBenchmark } from "./citizen-sync.ts";
import { endToEndBenchmark } from "./end-to-end.ts";
import type { Benchmark } from "./lib/benchmark.ts";
import { compareRatios, formatComparison } from "./lib/compare.ts";
import { collectVersions, DEFAULT_BENCH_DATABASE_URL, describeMachine } from "./lib/environment.ts";
import { updateReadmeTable } from "./lib/readme-table.ts";
import { type BenchmarkResultFile, readResults, writeResult } from "./lib/result-file.ts";
import { mirrorTargetsBenchmark } from "./mirror-targets.ts";
import { notifierBenchmark } from "./notifier.ts";
import { producerBenchmark } from "./producer.ts";
import { redisRestBenchmark } from "./redis-rest.ts";
import { stackBenchmark } from "./stack.ts";

const BENCHMARKS: readonly Benchmark[] = [
  producerBenchmark,
  endToEndBenchmark,
  stackBenchmark,
  citizenSyncBenchmark,
  notifierBenchmark,
  bridgeProduceBenchmark,
  mirrorTargetsBenchmark,
  redisRestBenchmark,
  bridgeSoakBenchmark,
];
const here = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = path.join(here, "results");

/** Creates the database named in `url` if it does not exist, then applies the migrations. */
async function prepareDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const adminUrl = new URL(url);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!exists) await admin.unsafe(`create database "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** bench/README.md gets every row, the top README the headline rows. */
async function updateTables(results: Awaited<ReturnType<typeof readResults>>): Promise<void> {
  const readmes = [path.join(here, "README.md"), path.join(here, "..", "README.md")] as const;
  await updateReadmeTable(readmes[0], results);
  await updateReadmeTable(readmes[1], results, { headlineOnly: true });
  // Biome formats Markdown tables (column alignment); format them so `npm run lint` stays clean.
  const biome = path.join(here, "..", "node_modules", ".bin", "biome");
  spawnSync(biome, ["format", "--write", ...readmes], { stdio: "ignore" });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      compare: { type: "boolean", default: false },
      list: { type: "boolean", default: false },
      // Re-renders every SVG and both tables from the JSON files, running nothing.
      "render-only": { type: "boolean", default: false },
    },
  });
  if (values.list) {
    for (const benchmark of BENCHMARKS) console.log(`${benchmark.name.padEnd(16)} ${benchmark.title}`);
    return 0;
  }
  if (values["render-only"]) {
    const results = await readResults(RESULTS_DIR);
    for (const result of results) await writeResult(RESULTS_DIR, result);
    await updateTables(results);
    console.log(`bench: re-rendered ${results.length} charts and the README tables`);
    return 0;
  }
  const unknown = positionals.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
    return 2;
  }
  const selected = positionals.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => positionals.includes(b.name));
  const services = {
    databaseUrl: process.env.DATABASE_URL || DEFAULT_BENCH_DATABASE_URL,
    kafkaBrokers: process.env.KAFKA_BROKERS || "127.0.0.1:9092",
    redisUrl: process.env.REDIS_URL || "redis://127.0.0.1:6379",
  };
  const started = performance.now();
  const clock = () => `${Math.round((performance.now() - started) / 1000)}s`.padStart(5);
  console.log(`bench: ${selected.map((b) => b.name).join(", ")}${values.quick ? " (quick)" : ""}`);
  await prepareDatabase(services.databaseUrl);
  const versions = await collectVersions(services);
  console.log(`bench: ${JSON.stringify(versions)}`);

  // Read before this run writes its own files: --compare shows the change against them.
  const committedBefore = await readResults(RESULTS_DIR);
  // Quick figures are not comparable with full ones: they never overwrite the committed files.
  const resultsDir = values.quick ? await mkdtemp(path.join(tmpdir(), "edgebus-bench-quick-")) : RESULTS_DIR;
  const fresh: BenchmarkResultFile[] = [];
  let failed = 0;
  for (const benchmark of selected) {
    const machine = describeMachine();
    const began = performance.now();
    const log = (message: string) => console.log(`[${clock()} ${benchmark.name}] ${message}`);
    log(`${benchmark.title} — load average ${machine.load_average_1m} on ${machine.cores} cores`);
    try {
      const report = await benchmark.run({ quick: values.quick, log, ...services });
      const result: BenchmarkResultFile = {
        name: benchmark.name,
        title: benchmark.title,
        date: new Date().toISOString(),
        quick: values.quick,
        duration_seconds: Math.round((performance.now() - began) / 1000),
        machine,
        versions,
        ...report,
      };
      fresh.push(result);
      const files = await writeResult(resultsDir, result);
      for (const row of report.table) log(`${row.figure}: ${row.ours} vs ${row.baseline} → ${row.ratio}`);
      log(`wrote ${path.relative(process.cwd(), files.json)} and ${path.relative(process.cwd(), files.svg)}`);
    } catch (error) {
      failed++;
      log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  const committed = await readResults(RESULTS_DIR); // now with this run's files
  if (values.compare)
    console.log(
      `\nbench: ratios against the committed figures\n${formatComparison(compareRatios(committedBefore, fresh))}`,
    );
  if (!values.quick) {
    await updateTables(committed);
    console.log(`bench: tables in bench/README.md and README.md regenerated from ${committed.length} result files`);
  }
  return failed === 0 ? 0 : 1;
}

process.exit(await main());
