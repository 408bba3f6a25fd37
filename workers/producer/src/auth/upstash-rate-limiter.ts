import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import { withRedisDeadline } from "../redis-client.ts";
import type { RateLimit } from "./api-key-config.ts";
import type { RateLimitDecision, RateLimiter } from "./rate-limiter.ts";

/**
 * Sliding-window limits in Upstash Redis through `@upstash/ratelimit`, shared by every Worker
 * isolate. One `Ratelimit` per distinct limit (the library fixes the limit per instance).
 *
 * `take` runs under the deadline `timeoutMs` (`REDIS_TIMEOUT_MS`) and rejects when Redis fails or
 * misses it; whether the request then goes through is the caller's decision
 * (`RATE_LIMIT_ON_REDIS_FAILURE`, `rate-limit.ts`), not the library's.
 */
export class UpstashRateLimiter implements RateLimiter {
  readonly #limiters = new Map<string, Ratelimit>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix = "edgebus:ratelimit",
    private readonly timeoutMs = 1000,
  ) {}

  #limiterFor(limit: RateLimit): Ratelimit {
    const id = `${limit.requests}/${limit.window_seconds}`;
    let limiter = this.#limiters.get(id);
    if (limiter === undefined) {
      limiter = new Ratelimit({
        redis: this.redis,
        limiter: Ratelimit.slidingWindow(limit.requests, `${limit.window_seconds} s`),
        prefix: `${this.prefix}:${id}`,
        // The in-isolate block cache would keep refusing after an operator raised the limit.
        ephemeralCache: false,
        // Off: the library's own timeout would let the request through silently; `take` has a
        // deadline instead and the producer decides (RATE_LIMIT_ON_REDIS_FAILURE).
        timeout: 0,
        analytics: false,
      });
      this.#limiters.set(id, limiter);
    }
    return limiter;
  }

  take(keyId: string, limit: RateLimit, cost: number): Promise<RateLimitDecision> {
    return withRedisDeadline("rate limiter (Redis)", this.timeoutMs, () => this.#take(keyId, limit, cost));
  }

  async #take(keyId: string, limit: RateLimit, cost: number): Promise<RateLimitDecision> {
    const limiter = this.#limiterFor(limit);
    // The library's script only refuses when the window is already full and otherwise adds the
    // whole cost, so a batch bigger than what is left would be refused AND charged. Checking the
    // remaining allowance first keeps a refused batch free (a concurrent request can still slip
    // in between; then the refusal is charged, erring on the safe side).
    if (cost > 1) {
      const { remaining, reset } = await limiter.getRemaining(keyId);
      if (remaining < cost) return { allowed: false, remaining, resetAt: reset };
    }
    const result = await limiter.limit(keyId, { rate: cost });
    return { allowed: result.success, remaining: Math.max(0, result.remaining), resetAt: result.reset };
  }
}
