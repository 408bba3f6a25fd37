import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";

/**
 * Hostile-input suites of the producer, inside workerd with the producer's real wrangler config
 * (its queue bindings): the fuzz suite under test/fuzz/ and the security suites under
 * test/security/. Files end in `.workerd-test.ts` so the Node project (`test/**\/*.test.ts`)
 * skips them. Files run one after another: they share one bridge and one Redis database, and the
 * fuzz compares counters before and after each request.
 */
export default defineProject({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: fileURLToPath(new URL("../../../wrangler.toml", import.meta.url)) },
      // The admin routes read and write the migrated test database.
      miniflare: {
        hyperdrives: { HYPERDRIVE: inject("databaseUrl") },
        // The Worker's own keys, for suites that go through SELF.fetch (test/fuzz/admin).
        bindings: { EDGEBUS_API_KEYS: inject("fuzzApiKeys") },
      },
    })),
  ],
  // The project spans test/fuzz and test/security: its root is test/.
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    name: "hostile-workerd",
    include: ["fuzz/**/*.workerd-test.ts", "security/**/*.workerd-test.ts"],
    fileParallelism: false,
    // A full-form run (EDGEBUS_FUZZ_RUNS=5000) takes minutes per property.
    testTimeout: 30 * 60_000,
    globalSetup: [
      fileURLToPath(new URL("./global-setup.ts", import.meta.url)),
      fileURLToPath(new URL("../../support/postgres-global-setup.ts", import.meta.url)),
    ],
  },
});
