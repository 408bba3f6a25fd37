import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_SCHEDULE } from "./config.ts";
import { nextDelayMs, retryAfterSeconds } from "./schedule.ts";

describe("retry schedule", () => {
  it("the default spans more than 24 hours", () => {
    const total = DEFAULT_RETRY_SCHEDULE.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeGreaterThan(24 * 3600);
  });

  it("follows the schedule with ±20 % jitter and ends after it", () => {
    const schedule = [10, 100];
    expect(nextDelayMs(schedule, 1, undefined, () => 0)).toBe(8000);
    expect(nextDelayMs(schedule, 1, undefined, () => 1)).toBe(12000);
    expect(nextDelayMs(schedule, 2, undefined, () => 0.5)).toBe(100_000);
    expect(nextDelayMs(schedule, 3, undefined, () => 0.5)).toBeUndefined();
  });

  it("never retries before Retry-After", () => {
    expect(nextDelayMs([10], 1, 120, () => 0.5)).toBe(120_000);
    expect(nextDelayMs([10], 1, 2, () => 0.5)).toBe(10_000);
  });

  it("reads Retry-After as seconds or an HTTP date, capped at a day", () => {
    const now = Date.parse("2026-12-06T08:00:00Z");
    expect(retryAfterSeconds("30", now)).toBe(30);
    expect(retryAfterSeconds("Sun, 06 Dec 2026 08:02:00 GMT", now)).toBe(120);
    expect(retryAfterSeconds("9999999", now)).toBe(86_400);
    expect(retryAfterSeconds("soon", now)).toBeUndefined();
    expect(retryAfterSeconds(null, now)).toBeUndefined();
  });
});
