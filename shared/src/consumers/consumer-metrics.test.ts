import { describe, expect, it } from "vitest";
import { EdgebusError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { type BatchContext, consumeBatch, settleBatch } from "./consume-batch.ts";
import type { QueueMessage } from "./consumer-message.ts";
import {
  type BatchCounts,
  BatchMetrics,
  type ConsumerMetricsSink,
  eventTimeOf,
  messageOutcome,
  writeBatchMetrics,
} from "./consumer-metrics.ts";
import { DEAD_LETTER_KIND } from "./dead-letter-message.ts";
import { consumed, deadLetter, type Outcome, retryLater } from "./outcome.ts";

const NOW = Date.parse("2026-11-22T09:00:00Z");

function message(id: string, body: unknown, attempts = 1, enqueuedSecondsAgo = 30) {
  const calls = { ack: 0, retry: 0 };
  const m: QueueMessage = {
    id,
    timestamp: new Date(NOW - enqueuedSecondsAgo * 1000),
    body,
    attempts,
    ack: () => {
      calls.ack++;
    },
    retry: () => {
      calls.retry++;
    },
  };
  return { message: m, calls };
}

const event = (secondsOld: number) => ({
  specversion: "1.0",
  id: crypto.randomUUID(),
  source: "/s",
  type: "gov.t.x.y",
  time: new Date(NOW - secondsOld * 1000).toISOString(),
});

function recordingSink(behaviour: "ok" | "fail" | "hang" = "ok") {
  const written: BatchCounts[] = [];
  const sink: ConsumerMetricsSink = {
    async add(counts) {
      written.push(counts);
      if (behaviour === "fail") throw new EdgebusError("upstream_unavailable", "Postgres unavailable (ECONNREFUSED)");
      if (behaviour === "hang") await new Promise(() => {});
    },
  };
  return { sink, written };
}

function context(metrics: ConsumerMetricsSink | null, lines: string[] = []): BatchContext {
  return {
    queue: "notifications",
    consumer: "notifier",
    retry: { maxRetries: 3, backoff: { random: () => 0.5 } },
    deadLetters: {
      async send() {},
    },
    logger: createLogger({}, (line) => lines.push(line)),
    now: () => new Date(NOW),
    receivedAt: NOW - 250,
    metrics,
  };
}

describe("the outcome → metric mapping", () => {
  it("follows what settle() did, and the handler's note for an ack", () => {
    const error = new EdgebusError("upstream_unavailable", "down");
    const cases: [Outcome, Parameters<typeof messageOutcome>[1], string][] = [
      [consumed(), { action: "ack" }, "applied"],
      [consumed("stale"), { action: "ack" }, "applied"],
      [consumed("duplicate"), { action: "ack" }, "duplicate"],
      [retryLater(error), { action: "retry", delaySeconds: 1 }, "retried"],
      // A retry on the last delivery became a dead letter.
      [retryLater(error), { action: "dead-letter" }, "dead_lettered"],
      [deadLetter(error), { action: "dead-letter" }, "dead_lettered"],
      // The DLQ refused the letter: the original was retried.
      [deadLetter(error), { action: "retry", delaySeconds: 2 }, "retried"],
    ];
    for (const [outcome, settlement, expected] of cases) expect(messageOutcome(outcome, settlement)).toBe(expected);
  });

  it("reads the event time of a CloudEvent body and of the event inside a dead letter", () => {
    expect(eventTimeOf({ time: "2026-11-22T08:00:00Z" })).toBe(Date.parse("2026-11-22T08:00:00Z"));
    expect(eventTimeOf({ kind: DEAD_LETTER_KIND, body: { time: "2026-11-22T07:00:00Z" } })).toBe(
      Date.parse("2026-11-22T07:00:00Z"),
    );
    expect(eventTimeOf({ time: "yesterday" })).toBeUndefined();
    expect(eventTimeOf(42)).toBeUndefined();
  });
});

describe("consumeBatch and settleBatch count every batch once", () => {
  it("counts outcomes, batch size and duration, and both ages, in one write after settling", async () => {
    const { sink, written } = recordingSink();
    const messages = [
      message("a", event(2)),
      message("b", event(40)),
      message("c", event(3600), 1, 5),
      message("d", { not: "an event" }, 4),
    ];
    const outcomes = new Map<string, Outcome>([
      ["a", consumed()],
      ["b", consumed("duplicate")],
      ["c", retryLater(new EdgebusError("upstream_unavailable", "down"))],
      // attempts 4 > maxRetries 3: the retry is dead-lettered as exhausted.
      ["d", retryLater(new EdgebusError("upstream_unavailable", "down"))],
    ]);
    await settleBatch({ queue: "notifications", messages: messages.map((m) => m.message) }, outcomes, context(sink));
    expect(written).toHaveLength(1);
    const [counts] = written;
    expect(counts).toMatchObject({
      consumer: "notifier",
      queue: "notifications",
      messages: { applied: 1, duplicate: 1, retried: 1, dead_lettered: 1 },
      batchSize: { count: 1, sum: 4, buckets: { "5": 1 } },
      batchSeconds: { count: 1, sum: 0.25, buckets: { "0.25": 1 } },
      // Enqueued 30 s ago (c: 5 s).
      enqueueAge: { count: 4, sum: 95, buckets: { "5": 1, "30": 3 } },
      // The body without a time has no event age.
      eventAge: { count: 3, sum: 3642, buckets: { "2.5": 1, "60": 1, "3600": 1 } },
    });
    expect(messages.map((m) => m.calls)).toEqual([
      { ack: 1, retry: 0 },
      { ack: 1, retry: 0 },
      { ack: 0, retry: 1 },
      { ack: 1, retry: 0 },
    ]);
  });

  it("consumeBatch counts what the handler and its middleware decided", async () => {
    const { sink, written } = recordingSink();
    const messages = [message("a", event(1)), message("b", event(1)), message("c", event(1))];
    const results: Record<string, () => Promise<Outcome>> = {
      a: async () => consumed(),
      b: async () => {
        throw new EdgebusError("bad_request", "refused for good");
      },
      c: async () => {
        throw new Error("a bug: retried");
      },
    };
    await consumeBatch(
      { queue: "notifications", messages: messages.map((m) => m.message) },
      async (m) => (results[m.id] as () => Promise<Outcome>)(),
      context(sink),
      { concurrency: 2 },
    );
    expect(written.map((c) => c.messages)).toEqual([{ applied: 1, duplicate: 0, retried: 1, dead_lettered: 1 }]);
  });

  it("a metrics write that fails is logged and changes nothing about the batch", async () => {
    const { sink, written } = recordingSink("fail");
    const lines: string[] = [];
    const m = message("a", event(1));
    const settlements = await settleBatch(
      { queue: "notifications", messages: [m.message] },
      new Map([["a", consumed()]]),
      context(sink, lines),
    );
    expect(settlements).toEqual([{ action: "ack" }]);
    expect(m.calls).toEqual({ ack: 1, retry: 0 });
    expect(written).toHaveLength(1);
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "consumer metrics not written",
        consumer: "notifier",
        queue: "notifications",
        count: 1,
        error_message: "Postgres unavailable (ECONNREFUSED)",
      }),
    );
  });

  it("a metrics write that does not answer is given up after its deadline", async () => {
    const { sink } = recordingSink("hang");
    const lines: string[] = [];
    const counts = new BatchMetrics("notifier", "notifications", NOW).finish(NOW);
    const started = Date.now();
    expect(
      await writeBatchMetrics(
        sink,
        counts,
        createLogger({}, (line) => lines.push(line)),
        50,
      ),
    ).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      msg: "consumer metrics not written",
      error_message: "no answer within 50 ms",
    });
  });

  it("writes nothing without a sink (a misconfigured deployment)", async () => {
    const m = message("a", event(1));
    const settlements = await settleBatch(
      { queue: "notifications", messages: [m.message] },
      new Map([["a", consumed()]]),
      context(null),
    );
    expect(settlements).toEqual([{ action: "ack" }]);
  });
});
