// `npm run chaos [-- --quick] [other vitest arguments]`: the chaos suite with its own Vitest config.
// --quick is the CI form (EDGEBUS_CHAOS_EVENTS=2500 unless set); without it, 20,000 events.
// Plain Node so it starts before anything is built; vitest runs as a child with inherited stdio.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const env = { ...process.env };
if (quick) env.EDGEBUS_CHAOS_EVENTS ??= "2500";
const vitest = path.join(root, "node_modules/vitest/vitest.mjs");
const child = spawn(
  process.execPath,
  [vitest, "run", "--config", "vitest.chaos.config.ts", ...args.filter((arg) => arg !== "--quick")],
  { cwd: root, env, stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
