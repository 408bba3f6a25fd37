import { open } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { MetricFamily } from "./metrics.ts";
import { ProcessMetrics } from "./process-metrics.ts";

const value = (families: readonly MetricFamily[], name: string) =>
  families.find((f) => f.name === name)?.samples[0]?.value;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Keeps the event loop busy for `ms`: nothing else runs meanwhile. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe("ProcessMetrics", () => {
  let metrics: ProcessMetrics | undefined;
  afterEach(() => metrics?.close());

  it("reports this process's memory, CPU time, start time and open descriptors under the client libraries' names", async () => {
    metrics = new ProcessMetrics();
    const before = await metrics.families();
    expect(before.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        "process_cpu_seconds_total",
        "process_start_time_seconds",
        "process_resident_memory_bytes",
        "nodejs_heap_size_total_bytes",
        "nodejs_heap_size_used_bytes",
        "nodejs_external_memory_bytes",
        "nodejs_eventloop_lag_p99_seconds",
        "nodejs_eventloop_lag_max_seconds",
      ]),
    );
    expect(before.find((f) => f.name === "process_cpu_seconds_total")?.type).toBe("counter");
    const rss = value(before, "process_resident_memory_bytes") ?? 0;
    expect(rss / process.memoryUsage.rss()).toBeGreaterThan(0.8);
    expect(rss / process.memoryUsage.rss()).toBeLessThan(1.25);
    const used = value(before, "nodejs_heap_size_used_bytes") ?? 0;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(value(before, "nodejs_heap_size_total_bytes") ?? 0);
    const started = value(before, "process_start_time_seconds") ?? 0;
    expect(Math.abs(started - (Date.now() / 1000 - process.uptime()))).toBeLessThanOrEqual(1);

    block(100);
    const after = await metrics.families();
    const cpu = (families: MetricFamily[]) => value(families, "process_cpu_seconds_total") ?? 0;
    expect(cpu(after) - cpu(before)).toBeGreaterThanOrEqual(0.05);
  });

  it.runIf(process.platform === "linux")("counts open file descriptors", async () => {
    metrics = new ProcessMetrics();
    const count = async () => value((await metrics?.families()) ?? [], "process_open_fds") ?? 0;
    const before = await count();
    const files = await Promise.all([open(import.meta.filename), open(import.meta.filename)]);
    try {
      expect(await count()).toBe(before + 2);
    } finally {
      await Promise.all(files.map((file) => file.close()));
    }
  });

  it("reports the event loop's delay since the previous scrape", async () => {
    metrics = new ProcessMetrics(5);
    await metrics.families();
    await sleep(30);
    block(200);
    await sleep(30);
    const blocked = await metrics.families();
    expect(value(blocked, "nodejs_eventloop_lag_max_seconds")).toBeGreaterThanOrEqual(0.15);
    await sleep(100);
    const quiet = await metrics.families();
    // The 200 ms stall belongs to the previous scrape's window.
    expect(value(quiet, "nodejs_eventloop_lag_max_seconds")).toBeLessThan(0.15);
    expect(value(quiet, "nodejs_eventloop_lag_p99_seconds")).toBeLessThan(0.15);
  });
});
