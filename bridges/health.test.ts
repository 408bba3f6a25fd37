import { describe, expect, it } from "vitest";
import { checkHealth } from "./health.ts";

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
