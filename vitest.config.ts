import { defineConfig } from "vitest/config";

/**
 * One Vitest project per Worker (each runs inside workerd with its own wrangler config) plus
 * Node projects for the bridge, scripts, the catalogue and end-to-end suites.
 */
export default defineConfig({
  test: {
    projects: [
      "workers/*/vitest.config.ts",
      "test/contract/workerd/vitest.config.ts",
      "test/fuzz/workerd/vitest.config.ts",
      "vitest.node.config.ts",
    ],
  },
});
