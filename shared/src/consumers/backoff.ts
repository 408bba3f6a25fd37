/**
 * Retry delays for Cloudflare Queues. Queues has no built-in backoff (docs/protocols.md), so the
 * delay is computed from `msg.attempts`: exponential with full jitter (AWS "Exponential
 * Backoff and Jitter"), so that a burst of failures does not come back as a burst.
 */

/** Cloudflare Queues refuses `delaySeconds` above 24 h. */
export const QUEUES_MAX_DELAY_SECONDS = 86_400;

export interface BackoffOptions {
  /** Delay scale of the first retry, in seconds. Default 1. */
  readonly baseSeconds?: number;
  /** Upper bound of the exponential part, in seconds. Default 3600 (1 h). */
  readonly capSeconds?: number;
  /** Source of randomness in [0, 1); tests pin it. Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * Delay before the next delivery after delivery number `attempts` (1-based, as `msg.attempts`)
 * failed: a whole number of seconds in `[1, min(cap, base * 2^(attempts-1))]`, never below
 * `retryAfterSeconds` when a provider asked for one (`Retry-After`), never above the Queues
 * maximum of 86400 s.
 */
export function backoffDelaySeconds(
  attempts: number,
  retryAfterSeconds?: number,
  options: BackoffOptions = {},
): number {
  const { baseSeconds = 1, capSeconds = 3600, random = Math.random } = options;
  const exponent = Math.max(0, Math.floor(attempts) - 1);
  // 2 ** exponent overflows to Infinity for huge attempt counts; min() keeps it at the cap.
  const ceiling = Math.min(capSeconds, baseSeconds * 2 ** Math.min(exponent, 64));
  const jittered = Math.max(1, Math.ceil(random() * ceiling));
  const floor =
    retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) ? Math.ceil(retryAfterSeconds) : 0;
  return Math.min(QUEUES_MAX_DELAY_SECONDS, Math.max(jittered, floor));
}
