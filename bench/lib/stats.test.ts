import { describe, expect, it } from "vitest";
import { median, percentile, round, roundSummary, summarise } from "./stats.ts";

describe("percentile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it("returns the smallest sample with at least p % of the samples at or below it", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0.5)).toBe(1);
  });

  it("rounds the rank up on small samples, so a reported value was observed", () => {
    expect(percentile([10, 20, 30], 50)).toBe(20);
    expect(percentile([10, 20, 30], 95)).toBe(30);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([7], 99)).toBe(7);
  });

  it("refuses an empty sample and a percentile outside (0, 100]", () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe("summarise", () => {
  it("sorts numerically (not as strings) and leaves the input alone", () => {
    const samples = [100, 9, 20, 3, 1000];
    const summary = summarise(samples);
    expect(samples).toEqual([100, 9, 20, 3, 1000]);
    expect(summary).toEqual({ count: 5, min: 3, mean: 226.4, p50: 20, p95: 1000, p99: 1000, max: 1000 });
  });

  it("puts a tail of slow requests into p99 but not p50", () => {
    const samples = [...Array.from({ length: 990 }, () => 5), ...Array.from({ length: 10 }, () => 500)];
    const summary = summarise(samples);
    expect(summary.p50).toBe(5);
    expect(summary.p95).toBe(5);
    expect(summary.p99).toBe(5);
    expect(summarise([...samples, 500]).p99).toBe(500);
    expect(summary.max).toBe(500);
  });

  it("refuses an empty sample", () => {
    expect(() => summarise([])).toThrow(RangeError);
  });
});

describe("median, round, roundSummary", () => {
  it("median picks the lower middle value for an even count", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(() => median([])).toThrow(RangeError);
  });

  it("rounds to decimal places and keeps the count whole", () => {
    expect(round(1.23456, 2)).toBe(1.23);
    expect(round(1234.56, 0)).toBe(1235);
    expect(roundSummary({ count: 3, min: 1.234, mean: 2.345, p50: 2.3449, p95: 3.999, p99: 3.999, max: 4 }, 1)).toEqual(
      {
        count: 3,
        min: 1.2,
        mean: 2.3,
        p50: 2.3,
        p95: 4,
        p99: 4,
        max: 4,
      },
    );
  });
});
