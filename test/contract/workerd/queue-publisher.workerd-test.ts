import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  QUEUE_LIMITS,
  type QueueBinding,
  QueuePublisher,
} from "../../../workers/producer/src/brokers/queue-publisher.ts";
import { contractMessage, runPublisherContract } from "../publisher.contract.ts";

interface ContractEnv {
  CONTRACT_A: QueueBinding;
  CONTRACT_B: QueueBinding;
  RECEIVED: KVNamespace;
}
const bindings = env as unknown as ContractEnv;

/** Every `sendBatch` that went to the real bindings: queue and the size of each message body. */
const sent: { queue: string; bodyBytes: number[] }[] = [];

/** Forwards to the real binding and records what was sent (the binding itself is Miniflare's). */
function observed(queue: string, binding: QueueBinding): QueueBinding {
  return {
    sendBatch(messages) {
      const list = [...messages];
      sent.push({ queue, bodyBytes: list.map((m) => new TextEncoder().encode(m.body).byteLength) });
      expect(list.every((m) => m.contentType === "text")).toBe(true);
      return binding.sendBatch(list);
    },
  };
}

const newPublisher = () =>
  new QueuePublisher({
    "contract-a": observed("contract-a", bindings.CONTRACT_A),
    "contract-b": observed("contract-b", bindings.CONTRACT_B),
  });

/** Waits until the consumer has stored the run's messages and the count stops growing. */
async function readBack(queue: string, runId: string): Promise<string[]> {
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await bindings.RECEIVED.list({ prefix: `${queue}:${runId}:`, ...(cursor ? { cursor } : {}) });
      keys.push(...page.keys.map((key) => key.name));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    if (keys.length !== last) {
      last = keys.length;
      stableSince = Date.now();
    } else if (keys.length > 0 && Date.now() - stableSince > 500) {
      const values = await Promise.all(keys.map((key) => bindings.RECEIVED.get(key)));
      return values.map((value) => value ?? "");
    }
    if (Date.now() > deadline) return [];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

runPublisherContract({
  name: "queue (Miniflare queue binding in workerd)",
  newPublisher,
  destinations: ["contract-a", "contract-b"],
  readBack,
  requestCount: () => sent.length,
  oversizedValueBytes: QUEUE_LIMITS.maxMessageBytes,
  // Miniflare's queue broker has no switch to make it fail, so the failing publisher's binding
  // rejects the way a throttled queue does on Cloudflare (`Too Many Requests`, above 5,000
  // messages/s: docs/protocols.md, "Cloudflare Queues"). The other texts the runtime throws are
  // mapped in workers/producer/src/brokers/queue-publisher.node.test.ts.
  newFailingPublisher: () =>
    new QueuePublisher({
      "contract-a": { sendBatch: () => Promise.reject(new Error("Too Many Requests")) },
      "contract-b": { sendBatch: () => Promise.reject(new Error("Queue send failed: Storage Limit Exceeded")) },
    }),
});

describe("QueuePublisher against Miniflare's limits", () => {
  it("splits batches at 100 messages and 256 KB per sendBatch", async () => {
    const before = sent.length;
    const runId = crypto.randomUUID();
    const padding = "p".repeat(10_000);
    const messages = Array.from({ length: 130 }, (_, i) => {
      const base = JSON.parse(contractMessage(runId, i).value) as Record<string, unknown>;
      return contractMessage(runId, i, { value: JSON.stringify({ ...base, padding: i < 40 ? padding : "" }) });
    });
    await newPublisher().publish("contract-a", messages);
    const batches = sent.slice(before);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.bodyBytes.length).toBeLessThanOrEqual(QUEUE_LIMITS.maxBatchMessages);
      const total = batch.bodyBytes.reduce((sum, bytes) => sum + bytes + QUEUE_LIMITS.metadataBytesPerMessage, 0);
      expect(total).toBeLessThanOrEqual(QUEUE_LIMITS.maxBatchBytes);
    }
    expect(batches.reduce((sum, batch) => sum + batch.bodyBytes.length, 0)).toBe(130);
    expect(await readBack("contract-a", runId)).toHaveLength(130);
  });

  it("accepts a message exactly at the size limit (the limit is not stricter than the queue's)", async () => {
    const runId = crypto.randomUUID();
    const base = JSON.stringify({ data: { run: runId, index: 0 }, blob: "" });
    const room = QUEUE_LIMITS.maxMessageBytes - QUEUE_LIMITS.metadataBytesPerMessage - base.length;
    const value = JSON.stringify({ data: { run: runId, index: 0 }, blob: "z".repeat(room) });
    const receipts = await newPublisher().publish("contract-b", [{ id: runId, value }]);
    expect(receipts).toEqual([{ destination: "contract-b", partition: null, offset: null }]);
    expect(await readBack("contract-b", runId)).toEqual([value]);
  });

  it("refuses a destination it has no binding for", async () => {
    await expect(newPublisher().publish("no-such-queue", [contractMessage("x", 1)])).rejects.toMatchObject({
      code: "internal",
      retryable: false,
    });
  });
});
