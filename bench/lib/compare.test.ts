import { describe, expect, it } from "vitest";
import { compareRatios, formatComparison } from "./compare.ts";
import type { BenchmarkResultFile } from "./result-file.ts";

function result(name: string, ratios: Record<string, number>): BenchmarkResultFile {
  return { name, ratios } as unknown as BenchmarkResultFile;
}

describe("compareRatios", () => {
  it("pairs each fresh ratio with the committed one of the same benchmark and name", () => {
    const rows = compareRatios(
      [
        result("producer", { single_vs_empty: 0.37, batch_vs_empty: 0.13 }),
        result("citizen-sync", { handler_vs_raw: 0.41 }),
      ],
      [result("producer", { single_vs_empty: 0.62, batch_vs_minimal: 0.85 })],
    );
    expect(rows).toEqual([
      { benchmark: "producer", ratio: "single_vs_empty", committed: 0.37, now: 0.62 },
      { benchmark: "producer", ratio: "batch_vs_minimal", committed: undefined, now: 0.85 },
    ]);
    const table = formatComparison(rows);
    expect(table).toMatch(/single_vs_empty\s+0\.37\s+0\.62\s+\+68%/);
    expect(table).toMatch(/batch_vs_minimal\s+–\s+0\.85\s+new/);
  });

  it("shows a drop as a negative change", () => {
    const table = formatComparison(compareRatios([result("b", { r: 0.8 })], [result("b", { r: 0.6 })]));
    expect(table).toMatch(/r\s+0\.8\s+0\.6\s+-25%/);
  });
});
