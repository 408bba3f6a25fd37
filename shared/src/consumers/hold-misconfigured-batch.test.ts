import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { QueueMessage } from "./consumer-message.ts";
import { describeZodIssues, holdMisconfiguredBatch } from "./hold-misconfigured-batch.ts";
import { createLogger } from "./log.ts";

function recordingMessage(id: string, attempts: number) {
  const calls = { ack: 0, retries: [] as ({ delaySeconds?: number } | undefined)[] };
  const message: QueueMessage = {
    id,
    timestamp: new Date("2026-11-22T08:00:00Z"),
    body: { id, source: "/t", type: "gov.t.x.y" },
    attempts,
    ack: () => {
      calls.ack++;
    },
    retry: (options) => {
      calls.retries.push(options);
    },
  };
  return { message, calls };
}

describe("holdMisconfiguredBatch", () => {
  it("retries every message with backoff, dead-letters none however often delivered, and logs the problem once", async () => {
    const fresh = recordingMessage("m1", 1);
    const old = recordingMessage("m2", 500);
    const lines: string[] = [];
    const settlements = await holdMisconfiguredBatch(
      { queue: "archive", messages: [fresh.message, old.message] },
      {
        consumer: "archive",
        logger: createLogger({ queue: "archive" }, (line) => lines.push(line)),
        problem: "HYPERDRIVE: Required",
      },
    );
    expect(settlements.map((s) => s.action)).toEqual(["retry", "retry"]);
    for (const { calls } of [fresh, old]) {
      expect(calls.ack).toBe(0);
      expect(calls.retries).toHaveLength(1);
      expect(calls.retries[0]?.delaySeconds).toBeGreaterThan(0);
    }
    const configLines = lines.map((line) => JSON.parse(line)).filter((l) => l.msg === "invalid configuration");
    expect(configLines).toHaveLength(1);
    expect(configLines[0]).toMatchObject({ level: "error", error_message: "HYPERDRIVE: Required" });
  });

  it("describes zod issues as path: message pairs", () => {
    const parsed = z.object({ A: z.string(), B: z.object({ c: z.number() }) }).safeParse({ B: { c: "x" } });
    if (parsed.success) throw new Error("expected a failure");
    expect(describeZodIssues(parsed.error)).toMatch(/^A: .+; B\.c: .+$/);
  });
});
