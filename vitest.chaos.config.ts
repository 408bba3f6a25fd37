import { defineConfig } from "vitest/config";

/**
 * The chaos suite (test/chaos/*.chaos.ts): its own config so it never runs in the parallel
 * projects of `npm test` (it starts its own Postgres, three Kafka brokers, bridge and
 * `wrangler dev`, and needs the machine to itself). Run it with `npm run chaos [-- --quick]`.
 */
export default defineConfig({
  test: {
    name: "chaos",
    environment: "node",
    include: ["test/chaos/**/*.chaos.ts"],
    fileParallelism: false,
    // Hooks and tests set their own (long) timeouts.
    hookTimeout: 600_000,
  },
});
