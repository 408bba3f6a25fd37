import type { RateLimit } from "./api-key-config.ts";

export interface RateLimitDecision {
  allowed: boolean;
  /** Events still allowed in the current window. */
  remaining: number;
  /** When the window frees capacity again (epoch ms). */
  resetAt: number;
}

/**
 * Per-key rate limiting. Guarantees: `cost` units are taken only when the whole cost fits
 * (a refused batch consumes nothing it could not use); limits are enforced across every
 * isolate sharing the same backing store (`UpstashRateLimiter`) or only within one isolate
 * (`MemoryRateLimiter`, local development).
 */
export interface RateLimiter {
  take(keyId: string, limit: RateLimit, cost: number): Promise<RateLimitDecision>;
}
