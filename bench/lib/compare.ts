/**
 * `npm run bench -- --quick --compare`: each ratio of a fresh run next to the committed figure,
 * so a change to a hot path shows what it costs before it lands. Quick runs are short and
 * noisy; a ratio that drops well below the committed one is worth a full run.
 */
import type { BenchmarkResultFile } from "./result-file.ts";

export interface RatioComparison {
  readonly benchmark: string;
  readonly ratio: string;
  readonly committed: number | undefined;
  readonly now: number;
}

/** One row per ratio of `fresh`, with the committed value of the same name when there is one. */
export function compareRatios(
  committed: readonly BenchmarkResultFile[],
  fresh: readonly BenchmarkResultFile[],
): RatioComparison[] {
  const byName = new Map(committed.map((result) => [result.name, result]));
  return fresh.flatMap((result) =>
    Object.entries(result.ratios).map(([ratio, now]) => ({
      benchmark: result.name,
      ratio,
      committed: byName.get(result.name)?.ratios[ratio],
      now,
    })),
  );
}

/** A fixed-width table of the comparisons, with the change in percent. */
export function formatComparison(rows: readonly RatioComparison[]): string {
  const lines = [["benchmark", "ratio", "committed", "now", "change"]];
  for (const row of rows) {
    const change =
      row.committed === undefined || row.committed === 0
        ? "new"
        : `${row.now >= row.committed ? "+" : ""}${Math.round(((row.now - row.committed) / row.committed) * 100)}%`;
    lines.push([
      row.benchmark,
      row.ratio,
      row.committed === undefined ? "–" : String(row.committed),
      String(row.now),
      change,
    ]);
  }
  const widths = lines[0]?.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? "").length))) ?? [];
  return lines
    .map((line) =>
      line
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
