import { EdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { DEFAULT_RATE_LIMIT } from "./auth/api-key-config.ts";
import type { Principal } from "./auth/authenticate.ts";
import type { Capabilities } from "./capabilities.ts";

const rateLimitLog = createLogger({ component: "producer" });
/** One warning per isolate and this many ms while the limiter fails open, not one per request. */
const FAIL_OPEN_LOG_EVERY_MS = 10_000;
let lastFailOpenLog = Number.NEGATIVE_INFINITY;

/**
 * Takes `cost` events from the key's allowance or throws 429 with the seconds until capacity frees.
 * When the limiter itself fails (Redis down or past `REDIS_TIMEOUT_MS`), `RATE_LIMIT_ON_REDIS_FAILURE`
 * decides: `closed` answers 503 (retryable), `open` lets the request through with a warning.
 */
export async function enforceRateLimit(caps: Capabilities, principal: Principal, cost: number): Promise<void> {
  const limit = principal.rate_limit ?? DEFAULT_RATE_LIMIT;
  let decision: Awaited<ReturnType<typeof caps.rateLimiter.take>>;
  try {
    decision = await caps.rateLimiter.take(principal.id, limit, cost);
  } catch (error) {
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
  if (!decision.allowed) {
    // `resetAt` ends the current fixed window, but a sliding window still counts that window's
    // events, fading linearly over the next one; `cost` units free up after about
    // window × cost / limit of it. Telling the client only "until reset" makes it retry too early.
    const untilReset = (decision.resetAt - Date.now()) / 1000;
    const fading = (limit.window_seconds * cost) / limit.requests;
    const retryAfterSeconds = Math.max(1, Math.ceil(untilReset + fading));
    throw new EdgebusError(
      "rate_limited",
      `API key ${principal.id} exceeded ${limit.requests} events per ${limit.window_seconds} s`,
      {
        retryAfterSeconds,
        details: { limit: limit.requests, window_seconds: limit.window_seconds, requested: cost },
      },
    );
  }
}
