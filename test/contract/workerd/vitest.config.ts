import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";

/**
 * The publisher contract for `QueuePublisher`, run inside workerd against Miniflare's real queue
 * broker. Files end in `.workerd-test.ts` so the Node project (`test/**\/*.test.ts`) skips them.
 */
export default defineProject({
  plugins: [cloudflareTest({ wrangler: { configPath: fileURLToPath(new URL("./wrangler.toml", import.meta.url)) } })],
  // Absolute path: the project may run from the repository root (root config) or from this folder.
  test: {
    name: "contract-workerd",
    include: ["**/*.workerd-test.ts"],
    globalSetup: [fileURLToPath(new URL("./global-setup.ts", import.meta.url))],
  },
});
