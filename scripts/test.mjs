// `npm test`: type-check, lint, and every Vitest project. Grows with the suites.
import { spawnSync } from "node:child_process";

const steps = [
  ["type-check", "npx", ["tsc", "--noEmit"]],
  ["lint", "npx", ["biome", "check", "."]],
  ["tests", "npx", ["vitest", "run"]],
];
for (const [name, cmd, args] of steps) {
  console.log(`\n== ${name}: ${cmd} ${args.join(" ")}`);
  const result = spawnSync(cmd, args, { stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`== ${name} failed (exit ${result.status})`);
    process.exit(result.status ?? 1);
  }
}
