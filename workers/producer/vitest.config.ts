import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";

export default defineProject({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: fileURLToPath(new URL("../../wrangler.toml", import.meta.url)) },
      // The admin routes and the replay job runner talk to the migrated test database.
      miniflare: { hyperdrives: { HYPERDRIVE: inject("databaseUrl") } },
    })),
  ],
  test: {
    name: "producer",
    include: ["src/**/*.test.ts"],
    // *.node.test.ts: unit tests of Node-testable modules, run by the "node" project.
    exclude: ["src/**/*.node.test.ts"],
    // Property tests make hundreds of requests; a loaded CI machine must not turn them into timeouts.
    testTimeout: 30_000,
    globalSetup: [
      fileURLToPath(new URL("./vitest.global-setup.ts", import.meta.url)),
      fileURLToPath(new URL("./vitest.black-hole-setup.ts", import.meta.url)),
      fileURLToPath(new URL("../../test/support/postgres-global-setup.ts", import.meta.url)),
    ],
  },
});
