import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { type QueueBinding, QueuePublisher } from "./queue-publisher.ts";

/**
 * Error mapping only: these bindings throw the texts Cloudflare documents for its limits, which
 * Miniflare cannot be made to produce. Sending itself is tested against Miniflare's real queue
 * in test/contract/workerd.
 */
function bindingThrowing(error: unknown): QueueBinding {
  return {
    async sendBatch() {
      throw error;
    },
  };
}

const message = { id: "m-1", value: JSON.stringify({ id: "1" }) };

async function failureOf(binding: QueueBinding): Promise<EdgebusError> {
  const failure = await new QueuePublisher({ q: binding }).publish("q", [message]).catch((error: unknown) => error);
  if (!(failure instanceof EdgebusError)) throw new Error(`expected an EdgebusError, got ${String(failure)}`);
  return failure;
}

describe("QueuePublisher error mapping", () => {
  it.each([
    ["Too Many Requests", "throttled"],
    ["Queue send failed: Storage Limit Exceeded", "backlog full"],
    ["Network connection lost.", "unavailable"],
  ])("maps %j to a retryable upstream_unavailable", async (text, reason) => {
    const failure = await failureOf(bindingThrowing(new Error(text)));
    expect(failure).toMatchObject({ code: "upstream_unavailable", retryable: true });
    expect(failure.message).toContain(reason);
    expect(failure.cause).toBeInstanceOf(Error);
  });

  it("maps a size rejection from the queue to payload_too_large", async () => {
    const failure = await failureOf(bindingThrowing(new Error("batch size of 300000 bytes exceeds limit of 288000")));
    expect(failure).toMatchObject({ code: "payload_too_large", retryable: false });
  });

  it("refuses a value that is not JSON before sending anything", async () => {
    let calls = 0;
    const counting: QueueBinding = {
      async sendBatch() {
        calls += 1;
      },
    };
    const failure = await new QueuePublisher({ q: counting })
      .publish("q", [message, { id: "bad", value: "{not json" }])
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "internal", retryable: false });
    expect(calls).toBe(0);
  });
});

describe("QueuePublisher sends", () => {
  function recording() {
    const batches: { body: string; contentType: string }[][] = [];
    const binding: QueueBinding = {
      async sendBatch(requests) {
        batches.push([...requests]);
      },
    };
    return { batches, binding };
  }

  it("sends each message's JSON text as a text body, as it is", async () => {
    const value = '{ "id": "1",  "data": {"x": 1} }';
    const { batches, binding } = recording();
    await new QueuePublisher({ q: binding }).publish("q", [{ id: "m-1", value }]);
    expect(batches).toEqual([[{ body: value, contentType: "text" }]]);
  });

  it("sends a message's own request to every queue, the same object, when it carries the message's value", async () => {
    const value = JSON.stringify({ id: "1", data: { x: 1 } });
    const request = { body: value, contentType: "text" as const };
    const shared = { id: "m-1", value, bytes: value.length, request };
    const { batches, binding } = recording();
    const publisher = new QueuePublisher({ a: binding, b: binding });
    await publisher.publish("a", [shared]);
    await publisher.publish("b", [shared]);
    expect(batches).toHaveLength(2);
    expect(batches[0]?.[0]).toBe(request);
    expect(batches[1]?.[0]).toBe(request);
  });

  it("builds the request itself, and checks the JSON, when the message's request is not for its value", async () => {
    const value = JSON.stringify({ id: "1" });
    const stale = { id: "m-1", value, bytes: 9, request: { body: '{"id":"other"}', contentType: "text" as const } };
    const { batches, binding } = recording();
    await new QueuePublisher({ q: binding }).publish("q", [stale, message]);
    expect(batches).toEqual([
      [
        { body: value, contentType: "text" },
        { body: message.value, contentType: "text" },
      ],
    ]);
    // Without its byte count a message is not prepared: its value is checked like any other.
    const unprepared = { id: "bad", value: "{not json", request: { body: "{not json", contentType: "text" as const } };
    await expect(new QueuePublisher({ q: binding }).publish("q", [unprepared])).rejects.toMatchObject({
      code: "internal",
    });
  });

  it("splits a batch by count and by the bytes of each message plus its metadata, in order", async () => {
    const big = "x".repeat(60_000);
    const messages = Array.from({ length: 5 }, (_, i) => ({ id: `m-${i}`, value: JSON.stringify({ i, big }) }));
    const { batches, binding } = recording();
    await new QueuePublisher({ q: binding }).publish("q", messages);
    // 4 × ~60 KB fit in 256 KB; the fifth starts a new batch.
    expect(batches.map((batch) => batch.map(({ body }) => (JSON.parse(body) as { i: number }).i))).toEqual([
      [0, 1, 2, 3],
      [4],
    ]);
    const many = Array.from({ length: 150 }, (_, i) => ({ id: `n-${i}`, value: JSON.stringify({ i }) }));
    const counted = recording();
    await new QueuePublisher({ q: counted.binding }).publish("q", many);
    expect(counted.batches.map((batch) => batch.length)).toEqual([100, 50]);
  });
});
