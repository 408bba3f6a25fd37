import { EdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { DEFAULT_RATE_LIMIT } from "./auth/api-key-config.ts";
import type { Principal } from "./auth/authenticate.ts";
import type { RateLimitDecision } from "./auth/rate-limiter.ts";
import type { Capabilities } from "./capabilities.ts";
import type { Admission } from "./dedup/dedup-store.ts";

/**
 * Per-key rate limits. The limit is taken in the same store call that begins the request's events
 * (`DedupStore.beginMany`), so with Redis a publish request costs two round trips in all; this
 * module says what the request costs and what a refusal or a failure answers.
 */
const rateLimitLog = createLogger({ component: "producer" });
/** One warning per isolate and this many ms while the limiter fails open, not one per request. */
const FAIL_OPEN_LOG_EVERY_MS = 10_000;
let lastFailOpenLog = Number.NEGATIVE_INFINITY;

/** `cost` events (a batch of 20 costs 20, invalid ones included) from the key's allowance. */
export function admissionFor(principal: Principal, cost: number): Admission {
  return { keyId: principal.id, limit: principal.rate_limit ?? DEFAULT_RATE_LIMIT, cost };
}

/** 429 for a refused admission, with the seconds until `cost` units have freed up. */
export function rateLimitRefusal(admission: Admission, decision: RateLimitDecision): EdgebusError {
  const { limit, cost } = admission;
  // `resetAt` ends the current fixed window, but a sliding window still counts that window's
  // events, fading linearly over the next one; `cost` units free up after about
  // window × cost / limit of it. Telling the client only "until reset" makes it retry too early.
  const untilReset = (decision.resetAt - Date.now()) / 1000;
  const fading = (limit.window_seconds * cost) / limit.requests;
  const retryAfterSeconds = Math.max(1, Math.ceil(untilReset + fading));
  return new EdgebusError(
    "rate_limited",
    `API key ${admission.keyId} exceeded ${limit.requests} events per ${limit.window_seconds} s`,
    {
      retryAfterSeconds,
      details: { limit: limit.requests, window_seconds: limit.window_seconds, requested: cost },
    },
  );
}

/**
 * The store failed while taking the limit (Redis down or past `REDIS_TIMEOUT_MS`).
 * `RATE_LIMIT_ON_REDIS_FAILURE` decides: `closed` throws 503 (retryable); `open` returns, with a
 * warning, and the caller goes on without the limit (dedup then fails closed on its own if the
 * same Redis is down).
 */
export function onRateLimiterFailure(caps: Capabilities, error: unknown): void {
  if (caps.config.rateLimitOnRedisFailure === "open") {
    if (Date.now() - lastFailOpenLog >= FAIL_OPEN_LOG_EVERY_MS) {
      lastFailOpenLog = Date.now();
      rateLimitLog.log("warn", "rate limiter failed; letting requests through (RATE_LIMIT_ON_REDIS_FAILURE=open)", {
        ...errorLogFields(error),
      });
    }
    return;
  }
  throw new EdgebusError("upstream_unavailable", "the rate limiter (Redis) is unavailable; retry shortly", {
    cause: error,
    retryAfterSeconds: 1,
  });
}
