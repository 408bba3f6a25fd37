import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";

export default defineProject({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.permits.toml" },
      miniflare: {
        // exports.default.queue() (real dispatch, reports delaySeconds) needs this flag.
        compatibilityFlags: ["service_binding_extra_handlers"],
        hyperdrives: { HYPERDRIVE: inject("databaseUrl") },
      },
    })),
  ],
  test: {
    name: "citizen-sync",
    include: ["src/**/*.test.ts"],
    // *.node.test.ts: unit tests of Node-testable modules, run by the "node" project.
    exclude: ["src/**/*.node.test.ts"],
    globalSetup: ["../../test/support/postgres-global-setup.ts"],
  },
});
