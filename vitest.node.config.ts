import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "node",
    environment: "node",
    include: [
      "shared/**/*.test.ts",
      "schemas/**/*.test.ts",
      "bridges/**/*.test.ts",
      "scripts/**/*.test.ts",
      "test/**/*.test.ts",
      "bench/**/*.test.ts",
      // Worker modules whose tests need Node (real Redis/Postgres clients): *.node.test.ts.
      "workers/*/src/**/*.node.test.ts",
    ],
  },
});
