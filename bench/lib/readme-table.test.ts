import { describe, expect, it } from "vitest";
import { renderTable, replaceBetweenMarkers, TABLE_END, TABLE_START } from "./readme-table.ts";
import type { BenchmarkResultFile } from "./result-file.ts";

function result(name: string, quick: boolean): BenchmarkResultFile {
  return {
    name,
    title: name,
    date: "2026-12-01T16:00:00.000Z",
    quick,
    duration_seconds: 1,
    machine: { cpu: "cpu", cores: 2, memory_gb: 1, os: "linux", load_average_1m: 1 },
    versions: { node: "v24", wrangler: "4", workerd: "1", hono: "4", postgres_server: "15", kafka: "4", redis: "7" },
    parameters: {},
    results: {},
    ratios: {},
    chart: { title: "", panels: [] },
    notes: [],
    table: [
      { figure: "rate | with pipe", ours: "10", baseline: "20", ratio: "0.5×", headline: true },
      { figure: "detail", ours: "1", baseline: "2", ratio: "0.5×" },
    ],
  };
}

describe("renderTable", () => {
  it("lists every row, escapes pipes and marks quick runs", () => {
    const table = renderTable([result("producer", false), result("bridge", true)]);
    const lines = table.split("\n");
    expect(lines).toHaveLength(2 + 4);
    expect(lines[2]).toBe("| [producer](results/producer.json) | rate \\| with pipe | 10 | 20 | 0.5× | 2026-12-01 |");
    expect(lines[5]).toContain("2026-12-01 (quick)");
  });

  it("keeps only headline rows for the top README, linking into bench/", () => {
    const lines = renderTable([result("producer", false)], { headlineOnly: true }).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain("(bench/results/producer.json)");
  });
});

describe("replaceBetweenMarkers", () => {
  it("replaces only the text between the markers, and is idempotent", () => {
    const doc = `intro\n${TABLE_START}\nold\n${TABLE_END}\noutro\n`;
    const once = replaceBetweenMarkers(doc, "new");
    expect(once).toBe(`intro\n${TABLE_START}\nnew\n${TABLE_END}\noutro\n`);
    expect(replaceBetweenMarkers(once, "new")).toBe(once);
  });

  it("refuses a document without the markers", () => {
    expect(() => replaceBetweenMarkers("no markers", "x")).toThrow(/bench-table/);
  });
});
