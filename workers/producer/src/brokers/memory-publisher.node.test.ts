import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { MemoryPublisher } from "./memory-publisher.ts";

const message = (id: string) => ({ id, value: JSON.stringify({ id }) });

describe("MemoryPublisher failure scheduling", () => {
  it("fails the next N calls, then accepts again", async () => {
    const publisher = new MemoryPublisher();
    publisher.failNext(2);
    await expect(publisher.publish("a", [message("1")])).rejects.toMatchObject({ code: "upstream_unavailable" });
    await expect(publisher.publish("b", [message("2")])).rejects.toMatchObject({ retryable: true });
    expect(await publisher.publish("a", [message("3")])).toEqual([{ destination: "a", partition: 0, offset: 0 }]);
    expect(publisher.messages("a").map((m) => m.id)).toEqual(["3"]);
    expect(publisher.calls).toBe(3);
  });

  it("fails one destination until healed, leaving others working (partial fan-out failure)", async () => {
    const publisher = new MemoryPublisher();
    const permanent = new EdgebusError("upstream_unavailable", "topic missing", { retryable: false });
    publisher.failDestination("kafka", permanent);
    await expect(publisher.publish("kafka", [message("1")])).rejects.toBe(permanent);
    expect(await publisher.publish("queue", [message("1")])).toHaveLength(1);
    publisher.heal("kafka");
    expect(await publisher.publish("kafka", [message("1")])).toHaveLength(1);
    expect(publisher.destinations().sort()).toEqual(["kafka", "queue"]);
  });

  it("stores nothing from a failed call", async () => {
    const publisher = new MemoryPublisher();
    publisher.failNext(1);
    await publisher.publish("a", [message("1"), message("2")]).catch(() => undefined);
    expect(publisher.messages("a")).toEqual([]);
  });
});
