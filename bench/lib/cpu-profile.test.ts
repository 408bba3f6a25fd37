import { describe, expect, it } from "vitest";
import { profileCpu, summariseProfile } from "./cpu-profile.ts";

describe("summariseProfile", () => {
  it("adds self time per function and inclusive time up each stack, recursion counted once", () => {
    const frame = (id: number, functionName: string, children: number[] = []) => ({
      id,
      callFrame: { functionName, url: "file:///repo/workers/producer/src/a.ts", lineNumber: functionName.length },
      children,
    });
    const summary = summariseProfile({
      nodes: [
        frame(1, "(root)", [2, 5]),
        frame(2, "outer", [3]),
        frame(3, "inner", [4]),
        frame(4, "outer"),
        frame(5, "(idle)"),
      ],
      samples: [2, 3, 3, 4, 5],
      timeDeltas: [1000, 2000, 2000, 5000, 7000],
    });
    expect(summary.total_ms).toBe(10);
    expect(summary.top_self[0]).toMatchObject({ function: "outer (workers/producer/src/a.ts:6)", ms: 6, percent: 60 });
    const inclusive = Object.fromEntries(
      summary.top_inclusive.map((entry) => [entry.function.split(" ")[0], entry.ms]),
    );
    expect(inclusive).toMatchObject({ outer: 10, inner: 9 });
  });
});

describe("profileCpu", () => {
  it("finds a busy function in a real profile", async () => {
    function spinForAWhile(): number {
      let x = 0;
      for (let i = 0; i < 3e7; i++) x = (x + i * 7) % 1000003;
      return x;
    }
    const summary = await profileCpu(async () => {
      spinForAWhile();
    });
    expect(summary.top_self.some((entry) => entry.function.startsWith("spinForAWhile"))).toBe(true);
  });
});
