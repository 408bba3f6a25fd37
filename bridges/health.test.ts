import { describe, expect, it } from "vitest";
import { CachedHealth, checkHealth } from "./health.ts";

describe("checkHealth", () => {
  it("is ok when every probe answers", async () => {
    expect(await checkHealth({ a: async () => 1, b: async () => undefined })).toEqual({
      status: "ok",
      checks: { a: "ok", b: "ok" },
    });
  });

  it("reports a failing and a hanging probe without waiting for the hung one", async () => {
    const started = Date.now();
    const report = await checkHealth(
      {
        kafka: () => new Promise(() => {}),
        redis: async () => {
          throw new Error("ECONNREFUSED");
        },
        ok: async () => "fine",
      },
      200,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(report).toEqual({
      status: "degraded",
      checks: { kafka: "unavailable: no answer within 200 ms", redis: "unavailable: ECONNREFUSED", ok: "ok" },
    });
  });
});

describe("CachedHealth", () => {
  it("probes once per cache period, shares a run between concurrent calls, and probes again after it", async () => {
    let calls = 0;
    const health = new CachedHealth(
      {
        kafka: async () => {
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        },
      },
      { cacheMs: 150, timeoutMs: 1000 },
    );
    const reports = await Promise.all(Array.from({ length: 50 }, () => health.report()));
    expect(calls).toBe(1);
    expect(reports.every((r) => r.status === "ok")).toBe(true);
    for (let i = 0; i < 20; i++) await health.report();
    expect(calls).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 160));
    await health.report();
    expect(calls).toBe(2);
  });

  it("keeps a degraded report for the cache period too (a failing Redis is not asked on every call)", async () => {
    let calls = 0;
    const health = new CachedHealth(
      {
        redis: async () => {
          calls++;
          throw new Error("ECONNREFUSED");
        },
      },
      { cacheMs: 10_000, timeoutMs: 1000 },
    );
    expect((await health.report()).status).toBe("degraded");
    expect((await health.report()).checks.redis).toBe("unavailable: ECONNREFUSED");
    expect(calls).toBe(1);
  });
});
