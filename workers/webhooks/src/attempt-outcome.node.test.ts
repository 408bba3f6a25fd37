import { describe, expect, it } from "vitest";
import { attemptRecord, disableReason } from "./attempt-outcome.ts";

const config = { retrySchedule: [5, 300], disableAfterMs: 5 * 86_400_000 };
const now = Date.parse("2026-12-06T08:00:00Z");
const half = () => 0.5;

describe("attempt outcomes", () => {
  it("a 2xx is delivered and ends any failure run", () => {
    const record = attemptRecord(config, 1, { kind: "delivered", status: 204, latencyMs: 30, snippet: "" }, now);
    expect(record).toMatchObject({ outcome: "delivered", statusCode: 204 });
    expect(disableReason(config, record, null, now)).toBeUndefined();
  });

  it("a failure is retried on the schedule, never before Retry-After, then failed", () => {
    const failure = { kind: "failed" as const, status: 500, latencyMs: 12, snippet: "boom", error: "HTTP 500" };
    expect(attemptRecord(config, 1, failure, now, half).nextAttemptAt).toEqual(new Date(now + 5000));
    expect(attemptRecord(config, 2, failure, now, half).nextAttemptAt).toEqual(new Date(now + 300_000));
    expect(attemptRecord(config, 1, { ...failure, status: 429, retryAfter: 60 }, now, half).nextAttemptAt).toEqual(
      new Date(now + 60_000),
    );
    expect(attemptRecord(config, 3, failure, now, half)).toMatchObject({ outcome: "failed", statusCode: 500 });
  });

  it("410 and a refused target disable the subscription; a temporary refusal is retried", () => {
    const gone = attemptRecord(config, 1, { kind: "gone", status: 410, latencyMs: 5, snippet: "" }, now);
    expect(disableReason(config, gone, null, now)).toBe("gone: the target answered 410");
    const refused = attemptRecord(
      config,
      1,
      { kind: "refused", reason: "resolves to 10.0.0.8", temporary: false },
      now,
    );
    expect(disableReason(config, refused, null, now)).toBe("target_refused: resolves to 10.0.0.8");
    const dnsDown = attemptRecord(config, 1, { kind: "refused", reason: "DNS down", temporary: true }, now, half);
    expect(dnsDown.outcome).toBe("retry");
    expect(disableReason(config, dnsDown, new Date(now), now)).toBeUndefined();
  });

  it("disables a subscription whose attempts have all failed for longer than the limit", () => {
    const failure = attemptRecord(
      config,
      1,
      { kind: "failed", status: 503, latencyMs: 1, snippet: "", error: "HTTP 503" },
      now,
      half,
    );
    expect(disableReason(config, failure, new Date(now - 4 * 86_400_000), now)).toBeUndefined();
    expect(disableReason(config, failure, new Date(now - 5 * 86_400_000 - 1), now)).toBe(
      "failing: every attempt failed for more than 5 days",
    );
  });
});
