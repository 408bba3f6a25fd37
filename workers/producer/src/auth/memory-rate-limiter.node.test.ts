import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "./memory-rate-limiter.ts";

const limit = { requests: 10, window_seconds: 60 };

describe("MemoryRateLimiter (sliding window)", () => {
  it("allows up to the limit, refuses beyond without charging the refused cost", async () => {
    let now = Date.UTC(2026, 10, 1, 0, 0, 0);
    const limiter = new MemoryRateLimiter(() => now);
    expect((await limiter.take("k", limit, 7)).allowed).toBe(true);
    expect(await limiter.take("k", limit, 4)).toMatchObject({ allowed: false, remaining: 3 });
    expect(await limiter.take("k", limit, 3)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await limiter.take("other", limit, 1)).allowed).toBe(true);
    now += 30_000;
    expect((await limiter.take("k", limit, 1)).allowed).toBe(false);
  });

  it("weights the previous window by its overlap", async () => {
    let now = Date.UTC(2026, 10, 1, 0, 0, 0);
    const limiter = new MemoryRateLimiter(() => now);
    await limiter.take("k", limit, 10);
    now += 60_000 + 30_000; // half-way through the next window: 5 of the previous 10 still count
    expect(await limiter.take("k", limit, 5)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await limiter.take("k", limit, 1)).allowed).toBe(false);
    now += 60_000 * 2;
    expect((await limiter.take("k", limit, 10)).allowed).toBe(true);
  });
});
