// `npm test`: prepares the servers the suites talk to, then type-check, lint, generated-artefact
// drift check, the Prometheus rule tests and every Vitest project. Every step runs even when an
// earlier one failed, so one run shows every problem; the exit code is non-zero when anything
// failed.
//
//   npm test                       everything
//   npm test -- --project node     extra arguments go to `vitest run` (checks still run)
//   npm test -- --tests-only       skip type-check, lint and drift check
//   npm test -- --no-chaos         skip the chaos suite's short form (ignored under CI=true)
//
// After the Vitest projects, and alone (it needs the CPU), the chaos suite's short form runs when
// no Vitest arguments were given: `npm run chaos -- --quick` (test/chaos/, its own Postgres,
// Kafka cluster, bridge and wrangler dev); its tests count in the summary.
//
// Prometheus rules (ops/prometheus): `promtool check rules` and `promtool test rules`, plus a syntax
// check of the sample scrape config. promtool comes from Debian's `prometheus` package (.ci/run
// installs it); locally a missing promtool skips the step with how to install it, under CI=true it
// fails the step.
//
// Servers: Postgres from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/edgebus_test);
// the database is created when missing and migrations are applied. Without a reachable server
// (and DATABASE_URL unset) the embedded Postgres (scripts/embedded-postgres.ts) is started.
// Redis (REDIS_URL) and Kafka (KAFKA_BROKERS) are probed; locally, suites needing a missing one
// are skipped and named with how to enable them; with CI=true a missing server fails the run.
//
// Plain JavaScript run by plain Node (no tsx): it must work before anything is built. Node >= 22.18
// strips the types of the one TypeScript module it imports (scripts/service-probe.ts).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
// The same server locations, probes and hints the suites use (Node strips the types on import).
import { serviceAvailable, serviceHints, serviceUrls } from "./service-probe.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);

const isCI = process.env.CI === "true" || process.env.CI === "1";
const EMBEDDED_DATA_DIR = ".cache/embedded-postgres-test";
const BIOME_VCS_FLAGS = ["--vcs-enabled=true", "--vcs-client-kind=git", "--vcs-use-ignore-file=true"];
const REPORT_FILE = ".cache/test-results/vitest.json";
const CHAOS_REPORT_FILE = ".cache/test-results/chaos.json";
/** Errors outside any test (failed hooks, import errors), by file: scripts/hook-errors-reporter.mjs. */
const HOOK_ERRORS_FILE = ".cache/test-results/hook-errors.json";
const HOOK_ERRORS_REPORTER = "--reporter=./scripts/hook-errors-reporter.mjs";

const args = process.argv.slice(2);
const testsOnly = args.includes("--tests-only");
const noChaos = args.includes("--no-chaos") && !isCI;
const vitestArgs = args.filter((arg) => arg !== "--tests-only" && arg !== "--no-chaos");
const runChaos = vitestArgs.length === 0 && !noChaos;

/** @type {{name: string, ok: boolean, detail: string}[]} */
const steps = [];
/** Servers that are missing: what to do about it. */
const missing = [];
/** Steps skipped locally because a tool is missing: what and how to install it. */
const skippedSteps = [];
/** Child processes to stop on exit (embedded Postgres). */
const cleanups = [];

function heading(text) {
  console.log(`\n== ${text}`);
}

function record(name, ok, detail = "") {
  steps.push({ name, ok, detail });
  if (!ok) console.error(`== ${name} FAILED${detail ? `: ${detail}` : ""}`);
}

/** Runs a command with inherited stdio; resolves with its exit code (signals count as failure). */
function run(cmd, cmdArgs, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { stdio: "inherit", env });
    child.on("error", (error) => {
      console.error(`could not start ${cmd}: ${error.message}`);
      resolve(127);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function step(name, cmd, cmdArgs, env) {
  heading(`${name}: ${cmd} ${cmdArgs.join(" ")}`);
  const started = Date.now();
  const code = await run(cmd, cmdArgs, env);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  record(name, code === 0, code === 0 ? `${seconds}s` : `exit ${code} after ${seconds}s`);
  return code === 0;
}

/** Starts scripts/embedded-postgres.ts in a child process; resolves with its connection URL. */
function startEmbeddedPostgres() {
  return new Promise((resolve, reject) => {
    // One node process with tsx as a loader (not `npx tsx`, which forks twice): SIGTERM reaches the server itself.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "scripts/embedded-postgres.ts", "--port", "0", "--data", EMBEDDED_DATA_DIR],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    cleanups.push(
      () =>
        new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.once("exit", () => done());
          child.kill("SIGTERM");
        }),
    );
    let buffered = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const match = buffered.match(/EMBEDDED_POSTGRES_URL=(\S+)/);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`embedded Postgres exited early (exit ${code})`)));
    child.once("error", reject);
  });
}

/** Creates the test database on a real server when it does not exist yet (safe against a parallel run). */
async function ensureDatabase(databaseUrl) {
  const { default: postgres } = await import("postgres");
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1)) || "postgres";
  const admin = new URL(databaseUrl);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    if (rows.length === 0) {
      await sql`create database ${sql(name)}`.catch((error) => {
        if (error.code !== "42P04") throw error; // duplicate_database: another run created it first
      });
      console.log(`created database ${name}`);
    } else {
      console.log(`database ${name} exists`);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function preparePostgres() {
  heading("postgres");
  const explicit = process.env.DATABASE_URL;
  let databaseUrl = serviceUrls.postgres;
  if (await serviceAvailable("postgres")) {
    try {
      await ensureDatabase(databaseUrl);
    } catch (error) {
      record("postgres", false, `cannot prepare ${redact(databaseUrl)}: ${error.message}`);
      return undefined;
    }
  } else if (explicit) {
    record("postgres", false, `DATABASE_URL=${redact(explicit)} is not reachable`);
    return undefined;
  } else {
    console.log(
      `no Postgres at ${redact(databaseUrl)}: starting the embedded Postgres (PGlite) from ${EMBEDDED_DATA_DIR}`,
    );
    try {
      // PGlite has one database; the name in the URL is ignored, kept for readable logs.
      databaseUrl = (await startEmbeddedPostgres()).replace(/\/[^/]*$/, "/edgebus_test");
    } catch (error) {
      record("postgres", false, error.message);
      return undefined;
    }
  }
  console.log(`DATABASE_URL=${redact(databaseUrl)}`);
  record("postgres", true, redact(databaseUrl));
  if (existsSync("scripts/migrate.ts")) {
    await step("migrations", "npx", ["tsx", "scripts/migrate.ts"], { ...process.env, DATABASE_URL: databaseUrl });
  } else {
    console.log("scripts/migrate.ts does not exist yet: no migrations to apply");
  }
  return databaseUrl;
}

function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

async function probeOtherServers() {
  heading("redis, kafka");
  if (await serviceAvailable("redis")) {
    console.log(`redis: reachable at ${serviceUrls.redis}`);
  } else {
    missing.push({ server: "redis", hint: serviceHints.redis });
  }
  if (await serviceAvailable("kafka")) {
    console.log(`kafka: reachable at ${serviceUrls.kafkaBrokers.join(",")}`);
  } else {
    const hasJava = (await run("sh", ["-c", "command -v java >/dev/null"])) === 0;
    missing.push({
      server: "kafka",
      hint: hasJava ? serviceHints.kafka : `install Java 17+, then ${serviceHints.kafka}`,
    });
  }
  for (const { server, hint } of missing) {
    console.log(`${server}: NOT reachable — ${hint}`);
  }
  if (isCI && missing.length > 0) {
    record("servers", false, `CI=true and missing: ${missing.map((m) => m.server).join(", ")}`);
  }
}

const PROMETHEUS_DIR = "ops/prometheus";
const PROMTOOL_HINT =
  "install promtool (Debian/Ubuntu: sudo apt-get install --no-install-recommends prometheus; macOS: brew install prometheus)";

/** `promtool check rules` on ops/prometheus/*.rules.yml, `promtool test rules` on its tests/*.test.yml. */
async function checkPrometheusRules() {
  const yamlIn = (dir, suffix) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith(suffix))
          .sort()
          .map((f) => path.join(dir, f))
      : [];
  const ruleFiles = yamlIn(PROMETHEUS_DIR, ".rules.yml");
  const testFiles = yamlIn(path.join(PROMETHEUS_DIR, "tests"), ".test.yml");
  if (ruleFiles.length === 0) return;
  const found = (await run("sh", ["-c", "command -v promtool >/dev/null"])) === 0;
  if (!found) {
    heading("prometheus rules");
    if (isCI) {
      record("prometheus rules", false, `CI=true and promtool is not on PATH: ${PROMTOOL_HINT}`);
    } else {
      console.log(`promtool: NOT on PATH — the Prometheus rule checks are skipped; ${PROMTOOL_HINT}`);
      skippedSteps.push(
        `prometheus rules (${ruleFiles.length} rule files, ${testFiles.length} tests): ${PROMTOOL_HINT}`,
      );
    }
    return;
  }
  await step("prometheus rules: check", "promtool", ["check", "rules", ...ruleFiles]);
  await step("prometheus rules: test", "promtool", ["test", "rules", ...testFiles]);
  const config = path.join(PROMETHEUS_DIR, "prometheus.yml");
  // --syntax-only: the sample's credentials file and targets do not exist here.
  if (existsSync(config))
    await step("prometheus config: check", "promtool", ["check", "config", "--syntax-only", config]);
}

/**
 * Reads Vitest's JSON report: counts, failed files without a failed test (a failed hook or an
 * import error: their reason comes from the hook-errors report, and the tests they kept from
 * running count as failed, not skipped), skipped files.
 */
function readReport(reportFile = REPORT_FILE) {
  if (!existsSync(reportFile)) return undefined;
  const report = JSON.parse(readFileSync(reportFile, "utf8"));
  const hookErrors = existsSync(HOOK_ERRORS_FILE) ? JSON.parse(readFileSync(HOOK_ERRORS_FILE, "utf8")) : {};
  let loadErrors = 0;
  let notRun = 0;
  const skippedByFile = new Map();
  const failedFiles = [];
  const failedTests = [];
  for (const file of report.testResults) {
    const relative = path.relative(root, file.name);
    const failed = file.assertionResults.filter((a) => a.status === "failed");
    for (const test of failed)
      failedTests.push({ file: relative, title: test.fullName, reason: firstLines(test.failureMessages) });
    const skipped = file.assertionResults.filter(
      (a) => a.status === "skipped" || a.status === "pending" || a.status === "todo",
    );
    if (file.status === "failed" && failed.length === 0) {
      loadErrors += Math.max(1, skipped.length);
      const reasons = [file.message, ...(hookErrors[file.name] ?? [])].filter(Boolean);
      const reason = reasons.length > 0 ? reasons.join("\n    ") : "no error recorded (see the output above)";
      console.error(`failed to run ${relative}: ${reason}`);
      failedFiles.push({ file: relative, reason, notRun: skipped.map((a) => a.fullName) });
      notRun += skipped.length;
      continue;
    }
    if (skipped.length > 0)
      skippedByFile.set(
        relative,
        skipped.map((a) => a.fullName),
      );
  }
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + loadErrors,
    skipped: report.numPendingTests + report.numTodoTests - notRun,
    skippedByFile,
    failedFiles,
    failedTests,
  };
}

/** The first lines of a test's failure messages: enough for the summary at the end of a long log. */
function firstLines(messages = [], count = 6) {
  const lines = messages
    .join("\n")
    .split("\n")
    .filter((line) => line.trim() !== "" && !/^\s*at .*(node_modules|node:|<anonymous>)/.test(line));
  return lines.slice(0, count).concat(lines.length > count ? ["…"] : []);
}

async function main() {
  const databaseUrl = await preparePostgres();
  await probeOtherServers();

  if (!testsOnly) {
    await step("type-check", "npx", ["tsc", "--noEmit"]);
    // The operator console's browser script: plain JavaScript with JSDoc types, checked against the DOM.
    await step("type-check (console script)", "npx", ["tsc", "-p", "workers/producer/tsconfig.console.json"]);
    // Git's ignore rules apply, so scratch files under git-ignored folders (.cache/, .dev-data/) are not linted.
    await step("lint", "npx", ["biome", "check", ...BIOME_VCS_FLAGS, "."]);
    // Import boundaries (which folder may import which): .dependency-cruiser.cjs.
    await step("import boundaries", "npx", ["depcruise", "--config", ".dependency-cruiser.cjs", "."]);
    if (existsSync("scripts/generate-artefacts.ts")) {
      await step("generated artefacts", "npx", ["tsx", "scripts/generate-artefacts.ts", "--check"]);
    } else {
      console.log("\nscripts/generate-artefacts.ts does not exist yet: no drift check");
    }
  }

  // Seconds, and independent of the servers: runs with --tests-only too.
  await checkPrometheusRules();

  rmSync(REPORT_FILE, { force: true });
  rmSync(HOOK_ERRORS_FILE, { force: true });
  const env = {
    ...process.env,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    EDGEBUS_HOOK_ERRORS_FILE: path.resolve(HOOK_ERRORS_FILE),
  };
  await step(
    "tests",
    "npx",
    [
      "vitest",
      "run",
      "--reporter=default",
      "--reporter=json",
      HOOK_ERRORS_REPORTER,
      `--outputFile.json=${REPORT_FILE}`,
      ...vitestArgs,
    ],
    env,
  );
  let counts = readReport();

  if (runChaos) {
    rmSync(CHAOS_REPORT_FILE, { force: true });
    rmSync(HOOK_ERRORS_FILE, { force: true });
    await step(
      "chaos (short form)",
      "node",
      [
        "test/chaos/run.mjs",
        "--quick",
        "--reporter=default",
        "--reporter=json",
        HOOK_ERRORS_REPORTER,
        `--outputFile.json=${CHAOS_REPORT_FILE}`,
      ],
      env,
    );
    const chaos = readReport(CHAOS_REPORT_FILE);
    if (!chaos) record("chaos report", false, `${CHAOS_REPORT_FILE} was not written`);
    else if (counts) {
      counts = {
        passed: counts.passed + chaos.passed,
        failed: counts.failed + chaos.failed,
        skipped: counts.skipped + chaos.skipped,
        skippedByFile: new Map([...counts.skippedByFile, ...chaos.skippedByFile]),
        failedFiles: [...counts.failedFiles, ...chaos.failedFiles],
        failedTests: [...counts.failedTests, ...chaos.failedTests],
      };
    } else counts = chaos;
  }

  heading("summary");
  for (const { name, ok, detail } of steps)
    console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ` (${detail})` : ""}`);
  if (counts && counts.skippedByFile.size > 0) {
    console.log("\nskipped:");
    // Titles carry the reason: contract suites skip a case by name with why (`— skipped: …`);
    // suites whose server is missing say which one. Under CI a missing server already failed above.
    for (const [file, titles] of counts.skippedByFile) {
      console.log(`  ${file}`);
      for (const title of titles) console.log(`    - ${title}`);
    }
  }
  if (counts && counts.failedFiles.length > 0) {
    console.log("\nfiles that failed outside any test (their tests did not run and count as failed):");
    for (const { file, reason, notRun } of counts.failedFiles) {
      console.log(`  ${file}: ${reason}`);
      for (const title of notRun) console.log(`    - not run: ${title}`);
    }
  }
  if (counts && counts.failedTests.length > 0) {
    // Repeated here because CI keeps only the end of a long log: the failure itself scrolled past.
    console.log("\nfailed tests:");
    for (const { file, title, reason } of counts.failedTests) {
      console.log(`  ${file}: ${title}`);
      for (const line of reason) console.log(`      ${line}`);
    }
  }
  for (const { server, hint } of missing) console.log(`${server} missing: suites that need it are skipped — ${hint}`);
  for (const skipped of skippedSteps) console.log(`skipped step ${skipped}`);
  if (!counts) record("test report", false, `${REPORT_FILE} was not written`);

  const failedSteps = steps.filter((s) => !s.ok);
  const c = counts ?? { passed: 0, failed: 0, skipped: 0 };
  const summary = `${c.passed} passed, ${c.failed} failed${c.skipped > 0 ? `, ${c.skipped} skipped` : ""}`;
  console.log(
    `\n${summary}${failedSteps.length > 0 ? ` — failed steps: ${failedSteps.map((s) => s.name).join(", ")}` : ""}`,
  );
  return failedSteps.length === 0 && c.failed === 0 ? 0 : 1;
}

// Ctrl-C / CI cancellation: stop the embedded Postgres before leaving so it leaves consistent files.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    for (const cleanup of cleanups) await cleanup();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  console.error(error);
} finally {
  for (const cleanup of cleanups) await cleanup();
}
process.exit(exitCode);
