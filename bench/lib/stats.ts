/**
 * Summary statistics for benchmark samples. Percentiles use the nearest-rank method: the
 * p-th percentile is the smallest sample such that at least p % of the samples are ≤ it, so
 * every reported value is one that was actually observed.
 */

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of `sorted` (ascending); `p` in (0, 100]. Throws on an empty sample. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("percentile of an empty sample");
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] as number;
}

/** Sorts a copy of `samples` and summarises it; the input is left untouched. */
export function summarise(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) throw new RangeError("cannot summarise an empty sample");
  const sorted = Float64Array.from(samples).sort();
  const values = Array.from(sorted);
  let sum = 0;
  for (const value of values) sum += value;
  return {
    count: values.length,
    min: values[0] as number,
    mean: sum / values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values[values.length - 1] as number,
  };
}

/** The middle value (the lower of the two middle ones for an even count, so it was observed). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError("median of an empty sample");
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

/** Rounds to `digits` decimal places for reports (`round(0.1234, 2)` → 0.12). */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Every number of a summary rounded, for JSON output. */
export function roundSummary(summary: LatencySummary, digits = 2): LatencySummary {
  return Object.fromEntries(
    Object.entries(summary).map(([key, value]) => [key, key === "count" ? value : round(value, digits)]),
  ) as unknown as LatencySummary;
}
