/**
 * The producer's Upstash Redis client and the deadline every Redis call runs under. A Redis REST
 * endpoint that accepts a connection and never answers would otherwise hold every publish: the
 * client's own retries have no overall limit. Two layers make `REDIS_TIMEOUT_MS` hold:
 * - each HTTP request the client makes carries `AbortSignal.timeout(ms)`, so the fetch itself is
 *   cancelled (and the client does not retry after an abort);
 * - each store or limiter operation runs under `withRedisDeadline`, which rejects after `ms`
 *   whatever the client is doing (a backoff sleep between retries included).
 */
import { Redis } from "@upstash/redis/cloudflare";
import { EdgebusError } from "#shared/errors.ts";

export interface RedisSettings {
  readonly url: string;
  readonly token: string;
  /** `REDIS_TIMEOUT_MS`. */
  readonly timeoutMs: number;
}

export function createProducerRedis(settings: RedisSettings): Redis {
  return new Redis({
    url: settings.url,
    token: settings.token,
    enableTelemetry: false,
    // A function: a fresh signal per request, and the client rethrows an abort instead of retrying.
    signal: () => AbortSignal.timeout(settings.timeoutMs),
  });
}

/**
 * `run()`, or `upstream_unavailable` (retryable) once `timeoutMs` passed without an answer.
 * `what` names the caller in the error (`dedup store (Redis) begin`).
 */
export async function withRedisDeadline<T>(what: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new EdgebusError(
            "upstream_unavailable",
            `${what}: no answer from Redis within ${timeoutMs} ms (REDIS_TIMEOUT_MS)`,
            {
              retryAfterSeconds: 1,
            },
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([run(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
