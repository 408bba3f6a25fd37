/**
 * When a failed delivery is tried again: the configured schedule's delay for this attempt, with
 * ±20 % jitter (so deliveries that failed together do not come back together), and never before
 * the target's `Retry-After` (seconds or an HTTP date), capped at 24 h.
 */

const MAX_RETRY_AFTER_SECONDS = 86_400;

/** Seconds a `Retry-After` header asks for, or undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text), MAX_RETRY_AFTER_SECONDS);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, Math.ceil((date - now) / 1000)), MAX_RETRY_AFTER_SECONDS);
}

/**
 * Milliseconds until the next attempt after `attempts` failed ones, or undefined when the
 * schedule is used up (the delivery fails).
 */
export function nextDelayMs(
  schedule: readonly number[],
  attempts: number,
  retryAfter: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[attempts - 1];
  if (base === undefined) return undefined;
  const jittered = base * 1000 * (0.8 + 0.4 * random());
  return Math.round(Math.max(jittered, (retryAfter ?? 0) * 1000));
}
