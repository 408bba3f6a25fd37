import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";

export default defineProject({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        compatibilityFlags: ["service_binding_extra_handlers"],
        bindings: { BRIDGE_MIRROR_URL: inject("mirrorUrl"), BRIDGE_MIRROR_SECRET: inject("mirrorSecret") },
        // The consumer metrics (edgebus.consumer_metrics) go to the migrated test database.
        hyperdrives: { HYPERDRIVE: inject("databaseUrl") },
      },
    })),
  ],
  test: {
    name: "kafka-mirror",
    include: ["src/**/*.test.ts"],
    // *.node.test.ts: unit tests of Node-testable modules, run by the "node" project.
    exclude: ["src/**/*.node.test.ts"],
    globalSetup: ["../../test/support/mirror-test-server.ts", "../../test/support/postgres-global-setup.ts"],
  },
});
