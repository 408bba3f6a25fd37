/**
 * What one attempt means for its delivery and its subscription, as pure functions the dispatcher
 * applies (and tests check without a runtime): delivered; retried at the schedule's next time
 * (never before Retry-After); failed once the schedule is used up; 410 and a refused target
 * disable the subscription; and a subscription whose attempts have all failed for longer than
 * WEBHOOK_DISABLE_AFTER_DAYS is disabled.
 */
import type { WebhooksConfig } from "./config.ts";
import type { AttemptResult } from "./deliver.ts";
import type { AttemptRecord } from "./delivery-store.ts";
import { nextDelayMs } from "./schedule.ts";

function retryOrFail(
  schedule: readonly number[],
  attempts: number,
  base: Omit<AttemptRecord, "outcome">,
  retryAfter: number | undefined,
  now: number,
  random: () => number,
): AttemptRecord {
  const delay = nextDelayMs(schedule, attempts, retryAfter, random);
  if (delay === undefined) return { ...base, outcome: "failed" };
  return { ...base, outcome: "retry", nextAttemptAt: new Date(now + delay) };
}

/** The record of attempt number `attempts` (1 = the first) of a delivery. */
export function attemptRecord(
  config: Pick<WebhooksConfig, "retrySchedule">,
  attempts: number,
  result: AttemptResult,
  now = Date.now(),
  random: () => number = Math.random,
): AttemptRecord {
  switch (result.kind) {
    case "delivered":
      return {
        statusCode: result.status,
        latencyMs: result.latencyMs,
        outcome: "delivered",
        snippet: result.snippet,
        error: null,
      };
    case "gone":
      return {
        statusCode: 410,
        latencyMs: result.latencyMs,
        outcome: "gone",
        snippet: result.snippet,
        error: "410 Gone",
      };
    case "refused":
      return result.temporary
        ? retryOrFail(
            config.retrySchedule,
            attempts,
            { statusCode: null, latencyMs: 0, snippet: null, error: result.reason },
            undefined,
            now,
            random,
          )
        : { statusCode: null, latencyMs: 0, outcome: "refused", snippet: null, error: result.reason };
    case "failed":
      return retryOrFail(
        config.retrySchedule,
        attempts,
        { statusCode: result.status, latencyMs: result.latencyMs, snippet: result.snippet, error: result.error },
        result.retryAfter,
        now,
        random,
      );
  }
}

/** Why the subscription must be disabled after this attempt, or undefined. */
export function disableReason(
  config: Pick<WebhooksConfig, "disableAfterMs">,
  record: AttemptRecord,
  failingSince: Date | null,
  now = Date.now(),
): string | undefined {
  if (record.outcome === "gone") return "gone: the target answered 410";
  if (record.outcome === "refused") return `target_refused: ${record.error ?? ""}`;
  if (record.outcome !== "delivered" && failingSince !== null && now - failingSince.getTime() > config.disableAfterMs) {
    const days = Number((config.disableAfterMs / 86_400_000).toFixed(2));
    return `failing: every attempt failed for more than ${days} days`;
  }
  return undefined;
}
