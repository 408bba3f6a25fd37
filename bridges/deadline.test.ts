import { describe, expect, it } from "vitest";
import { withDeadline } from "./deadline.ts";

describe("withDeadline", () => {
  it("gives the work's answer or failure when it comes in time", async () => {
    await expect(withDeadline(Promise.resolve("OK"), 50, () => new Error("late"))).resolves.toBe("OK");
    await expect(withDeadline(Promise.reject(new Error("refused")), 50, () => new Error("late"))).rejects.toThrow(
      "refused",
    );
  });

  it("rejects with the expiry's error once the deadline passes, and drops a later failure", async () => {
    let fail: (error: Error) => void = () => undefined;
    const work = new Promise<never>((_, reject) => {
      fail = reject;
    });
    const started = performance.now();
    await expect(withDeadline(work, 30, () => new Error("no answer within 30 ms"))).rejects.toThrow(
      "no answer within 30 ms",
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    // No unhandled rejection: the late failure is dropped.
    fail(new Error("too late"));
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
});
