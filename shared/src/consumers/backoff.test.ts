import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelaySeconds, QUEUES_MAX_DELAY_SECONDS } from "./backoff.ts";

describe("backoffDelaySeconds", () => {
  it("doubles the ceiling per attempt from a 1 s base (random pinned at the top)", () => {
    const top = { random: () => 0.999999 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelaySeconds(a, undefined, top))).toEqual([1, 2, 4, 8, 16]);
  });

  it("caps the exponential part at 1 h", () => {
    expect(backoffDelaySeconds(40, undefined, { random: () => 0.999999 })).toBe(3600);
  });

  it("jitters over the whole range (full jitter) and never goes below 1 s", () => {
    expect(backoffDelaySeconds(10, undefined, { random: () => 0 })).toBe(1);
    expect(backoffDelaySeconds(10, undefined, { random: () => 0.5 })).toBe(256);
  });

  it("honours Retry-After even above the cap, up to the Queues maximum", () => {
    expect(backoffDelaySeconds(1, 120, { random: () => 0 })).toBe(120);
    expect(backoffDelaySeconds(1, 7200, { random: () => 0 })).toBe(7200);
    expect(backoffDelaySeconds(1, 10 ** 9, { random: () => 0 })).toBe(QUEUES_MAX_DELAY_SECONDS);
  });

  it("is always a whole number of seconds within [1, 86400]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 10_000 }),
        fc.option(fc.double({ min: 0, max: 1e7, noNaN: true }), { nil: undefined }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempts, retryAfter, r) => {
          const delay = backoffDelaySeconds(attempts, retryAfter, { random: () => r });
          return Number.isInteger(delay) && delay >= 1 && delay <= QUEUES_MAX_DELAY_SECONDS;
        },
      ),
    );
  });
});
