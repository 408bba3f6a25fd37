/**
 * The one result format every benchmark writes: `bench/results/<name>.json` (figures plus what
 * they were measured on) and `bench/results/<name>.svg` (the chart rendered from the same data).
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Machine, Versions } from "./environment.ts";
import { round } from "./stats.ts";
import { type ChartSpec, renderChart } from "./svg-chart.ts";

/** One line of the README table: a figure of ours next to its baseline. */
export interface TableRow {
  figure: string;
  ours: string;
  baseline: string;
  /** ours ÷ baseline (or what the figure's text says), as text. */
  ratio: string;
  /** Shown in the top README's summary too, not only in bench/README.md. */
  headline?: boolean;
}

/**
 * A row comparing two rates (ours and a baseline measured in the same run): both written as
 * en-US numbers, the baseline followed by its label in parentheses, the ratio ours ÷ baseline
 * rounded to `digits` places.
 */
export function rateRow(
  figure: string,
  ours: number,
  baseline: { readonly value: number; readonly label: string },
  { digits = 2, headline = false }: { digits?: number; headline?: boolean } = {},
): TableRow {
  return {
    figure,
    ours: ours.toLocaleString("en-US"),
    baseline: `${baseline.value.toLocaleString("en-US")} (${baseline.label})`,
    ratio: `${round(ours / baseline.value, digits)}×`,
    ...(headline ? { headline } : {}),
  };
}

/** What a benchmark's `run` returns. */
export interface BenchmarkReport {
  parameters: Record<string, unknown>;
  results: unknown;
  ratios: Record<string, number>;
  table: TableRow[];
  chart: ChartSpec;
  notes: string[];
}

export interface BenchmarkResultFile extends BenchmarkReport {
  name: string;
  title: string;
  date: string;
  /** `--quick` runs are for checking the machinery, not for the committed figures. */
  quick: boolean;
  duration_seconds: number;
  machine: Machine;
  versions: Versions;
}

/** Writes `<dir>/<name>.json` and `<dir>/<name>.svg`; returns both paths. */
export async function writeResult(dir: string, result: BenchmarkResultFile): Promise<{ json: string; svg: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, `${result.name}.json`);
  const svg = path.join(dir, `${result.name}.svg`);
  await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(svg, renderChart(result.chart));
  return { json, svg };
}

function isResultFile(value: unknown): value is BenchmarkResultFile {
  const v = value as Partial<BenchmarkResultFile> | null;
  return typeof v === "object" && v !== null && typeof v.name === "string" && Array.isArray(v.table);
}

/** Every result file in `dir` in this format, by name; other JSON files are skipped. */
export async function readResults(dir: string): Promise<BenchmarkResultFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".json")).sort();
  const results: BenchmarkResultFile[] = [];
  for (const name of names) {
    const parsed: unknown = JSON.parse(await readFile(path.join(dir, name), "utf8"));
    if (isResultFile(parsed)) results.push(parsed);
  }
  return results;
}
