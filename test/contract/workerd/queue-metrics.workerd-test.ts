/**
 * What local emulation (Miniflare's queue broker, as in `wrangler dev` and the Vitest plugin)
 * answers for `Queue.metrics()` and in `send` / `sendBatch` responses, and how the producer's
 * scrape reads it (`readQueueBacklogs`, workers/producer/src/queue-backlog.ts). docs/protocols.md
 * ("Local emulation") quotes these results; keep the two in step.
 *
 * `contract-backlog` has a consumer that waits 60 s for a batch, so what is sent here stays in the
 * backlog for the length of the test.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readQueueBacklogs } from "../../../workers/producer/src/queue-backlog.ts";

const bindings = env as unknown as { CONTRACT_BACKLOG: Queue; CONTRACT_A: Queue };

/** `{"run": …, "n": …}` as JSON is this many bytes: what `backlogBytes` counts for a `json` message. */
const bodyBytes = (body: unknown) => new TextEncoder().encode(JSON.stringify(body)).byteLength;

describe("Queue.metrics() in local emulation", () => {
  it("an empty queue: zero counts and an undefined oldestMessageTimestamp", async () => {
    // contract-a's consumer takes every message at once (max_batch_timeout = 0).
    const metrics = await bindings.CONTRACT_A.metrics();
    // The broker sends 0 for "no message"; the runtime hands the Worker `undefined`.
    expect(metrics).toEqual({ backlogCount: 0, backlogBytes: 0 });
    expect(metrics.oldestMessageTimestamp).toBeUndefined();
  });

  it("counts waiting messages and their body bytes, and dates the oldest; send responses report the backlog before the send", async () => {
    const run = crypto.randomUUID();
    const before = await bindings.CONTRACT_BACKLOG.metrics();
    const bodies = [1, 2, 3].map((n) => ({ run, n }));
    const startedAt = Date.now();

    const batch = await bindings.CONTRACT_BACKLOG.sendBatch(
      bodies.slice(0, 2).map((body) => ({ body, contentType: "json" })),
    );
    // The broker answers with the backlog as it was before this batch joined it.
    expect(batch.metadata.metrics.backlogCount).toBe(before.backlogCount);
    const single = await bindings.CONTRACT_BACKLOG.send(bodies[2], { contentType: "json" });
    expect(single.metadata.metrics.backlogCount).toBe(before.backlogCount + 2);

    const after = await bindings.CONTRACT_BACKLOG.metrics();
    expect(after.backlogCount).toBe(before.backlogCount + 3);
    expect(after.backlogBytes).toBe(before.backlogBytes + bodies.reduce((sum, body) => sum + bodyBytes(body), 0));
    // A Date: the enqueue time of the oldest waiting message.
    expect(after.oldestMessageTimestamp).toBeInstanceOf(Date);
    expect(after.oldestMessageTimestamp?.getTime()).toBeLessThanOrEqual(Date.now());
    if (before.backlogCount === 0)
      expect(after.oldestMessageTimestamp?.getTime()).toBeGreaterThanOrEqual(startedAt - 1000);

    // What the producer's scrape makes of it (edgebus_queue_backlog_* and oldest message age).
    const [backlog] = await readQueueBacklogs({ "contract-backlog": bindings.CONTRACT_BACKLOG });
    expect(backlog).toMatchObject({
      queue: "contract-backlog",
      messages: after.backlogCount,
      bytes: after.backlogBytes,
    });
    expect(backlog?.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(backlog?.oldestAgeSeconds).toBeLessThan(60);
    const [empty] = await readQueueBacklogs({ "contract-a": bindings.CONTRACT_A });
    expect(empty).toEqual({ queue: "contract-a", messages: 0, bytes: 0, oldestAgeSeconds: 0 });
  });

  it("the scrape leaves out a binding without metrics(), one that throws and one that does not answer in time", async () => {
    const backlogs = await readQueueBacklogs(
      {
        "no-metrics": { send: async () => ({}) },
        throws: {
          metrics: async () => {
            throw new Error("not supported here");
          },
        },
        hangs: { metrics: () => new Promise(() => {}) },
        "contract-a": bindings.CONTRACT_A,
      },
      { timeoutMs: 100 },
    );
    expect(backlogs.map((b) => b.queue)).toEqual(["contract-a"]);
  });
});
