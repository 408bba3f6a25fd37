import { describe, expect, it } from "vitest";
import { z } from "zod";
import { queueMessage, recordingBatch } from "../../../test/support/queue-delivery.ts";
import { createLogger } from "../log.ts";
import { describeZodIssues, holdMisconfiguredBatch } from "./hold-misconfigured-batch.ts";

describe("holdMisconfiguredBatch", () => {
  it("retries every message with backoff, dead-letters none however often delivered, and logs the problem once", async () => {
    const fresh = queueMessage({ id: "e1" }, 1);
    const old = queueMessage({ id: "e2" }, 500);
    const { batch, acked, retried } = recordingBatch("archive", [fresh, old]);
    const lines: string[] = [];
    const settlements = await holdMisconfiguredBatch(batch, {
      consumer: "archive",
      logger: createLogger({ queue: "archive" }, (line) => lines.push(line)),
      problem: "HYPERDRIVE: Required",
    });
    expect(settlements.map((s) => s.action)).toEqual(["retry", "retry"]);
    expect(acked.size).toBe(0);
    expect([...retried.keys()]).toEqual([fresh.id, old.id]);
    for (const delay of retried.values()) expect(delay).toBeGreaterThan(0);
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
