// `npm run chaos [-- --quick] [other vitest arguments]`: the chaos suite with its own Vitest config.
// --quick is the CI form (EDGEBUS_CHAOS_EVENTS=2500 unless set); without it, 20,000 events.
// Plain Node so it starts before anything is built; vitest runs as a child with inherited stdio.
// Runs hold /tmp/edgebus-chaos.lock (flock) for their whole length: two runs on one machine would
// fight over the chaos ports (Postgres 25432, Kafka 19092-19094, 24710-24715), so the second waits.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const env = { ...process.env };
if (quick) env.EDGEBUS_CHAOS_EVENTS ??= "2500";
const vitest = path.join(root, "node_modules/vitest/vitest.mjs");
const command = [
  process.execPath,
  vitest,
  "run",
  "--config",
  "vitest.chaos.config.ts",
  ...args.filter((arg) => arg !== "--quick"),
];
const hasFlock = spawnSync("sh", ["-c", "command -v flock"], { stdio: "ignore" }).status === 0;
// Tells the suite no other chaos run is active, so it may stop servers of folders with no owner.
if (hasFlock) env.EDGEBUS_CHAOS_LOCK_HELD = "1";
const [program, ...programArgs] = hasFlock ? ["flock", "-w", "1800", "/tmp/edgebus-chaos.lock", ...command] : command;
const child = spawn(program, programArgs, { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
