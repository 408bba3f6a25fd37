import type { RateLimit } from "./api-key-config.ts";
import type { RateLimitDecision, RateLimiter } from "./rate-limiter.ts";

/**
 * Sliding-window limiter in isolate memory, for local development without Redis. Each Worker
 * isolate counts on its own, so in production (many isolates) the real limit is higher; the
 * producer logs this when it falls back here.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, { start: number; current: number; previous: number }>();

  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  async take(keyId: string, limit: RateLimit, cost: number): Promise<RateLimitDecision> {
    const windowMs = limit.window_seconds * 1000;
    const now = this.now();
    const start = now - (now % windowMs);
    const id = `${keyId}:${limit.requests}/${limit.window_seconds}`;
    let window = this.#windows.get(id);
    if (window === undefined || window.start < start - windowMs) window = { start, current: 0, previous: 0 };
    else if (window.start < start) window = { start, current: 0, previous: window.current };
    // Same estimate as Upstash's sliding window: the previous window weighted by its overlap.
    const overlap = 1 - (now - start) / windowMs;
    const used = Math.floor(window.previous * overlap) + window.current;
    const allowed = used + cost <= limit.requests;
    if (allowed) window.current += cost;
    this.#windows.set(id, window);
    return {
      allowed,
      remaining: Math.max(0, limit.requests - used - (allowed ? cost : 0)),
      resetAt: start + windowMs,
    };
  }
}
