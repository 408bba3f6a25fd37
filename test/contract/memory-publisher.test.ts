import { describe, expect, it } from "vitest";
import { MemoryPublisher } from "../../workers/producer/src/brokers/memory-publisher.ts";
import { runPublisherContract } from "./publisher.contract.ts";

/** Cloudflare Queues' limit: the memory publisher stands in for a queue in Worker tests. */
const LIMIT = 128_000;
let current = new MemoryPublisher({ maxMessageBytes: LIMIT });

runPublisherContract({
  name: "memory",
  newPublisher: () => {
    current = new MemoryPublisher({ maxMessageBytes: LIMIT });
    return current;
  },
  destinations: ["contract-a", "contract-b"],
  newFailingPublisher: () => {
    const publisher = new MemoryPublisher();
    publisher.failNext(1);
    return publisher;
  },
  readBack: async (destination, runId) =>
    current
      .messages(destination)
      .filter((message) => message.value.includes(runId))
      .map((message) => message.value),
  requestCount: () => current.calls,
  oversizedValueBytes: LIMIT + 1,
});

describe("MemoryPublisher without a size limit", () => {
  it("stores a message of any size, and refuses a limit that is not a positive integer", async () => {
    const publisher = new MemoryPublisher();
    const value = JSON.stringify({ blob: "z".repeat(2 * LIMIT) });
    await publisher.publish("big", [{ id: "x", value }]);
    expect(publisher.messages("big")[0]?.value).toBe(value);
    expect(() => new MemoryPublisher({ maxMessageBytes: 0 })).toThrow(/positive integer/);
    expect(() => new MemoryPublisher({ maxMessageBytes: 1.5 })).toThrow(/positive integer/);
  });

  it("stores nothing of a call that holds one oversized message", async () => {
    const publisher = new MemoryPublisher({ maxMessageBytes: 100 });
    await expect(
      publisher.publish("small", [
        { id: "a", value: "{}" },
        { id: "b", value: JSON.stringify({ blob: "q".repeat(200) }) },
      ]),
    ).rejects.toMatchObject({ code: "payload_too_large", retryable: false });
    expect(publisher.messages("small")).toEqual([]);
  });
});
