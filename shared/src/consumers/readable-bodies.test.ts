import { describe, expect, it } from "vitest";
import type { QueueMessage } from "./consumer-message.ts";
import { withReadableBodies } from "./readable-bodies.ts";

function delivered(body: unknown) {
  const calls: string[] = [];
  const message: QueueMessage = {
    id: `m-${Math.random()}`,
    timestamp: new Date("2026-12-07T10:00:00Z"),
    attempts: 2,
    body,
    ack: () => calls.push("ack"),
    retry: (options) => calls.push(`retry ${options?.delaySeconds}`),
  };
  return { message, calls };
}

describe("withReadableBodies", () => {
  it("hands consumers the event a text body carries, and acks and retries the delivered message", () => {
    const event = { specversion: "1.0", id: "e-1", data: { n: 1 } };
    const { message, calls } = delivered(JSON.stringify(event));
    const batch = withReadableBodies({ queue: "archive", messages: [message] });
    const [readable] = batch.messages;
    expect(batch.queue).toBe("archive");
    expect(readable).toMatchObject({ id: message.id, timestamp: message.timestamp, attempts: 2, body: event });
    readable?.ack();
    readable?.retry({ delaySeconds: 30 });
    expect(calls).toEqual(["ack", "retry 30"]);
  });

  it("passes json bodies and text that is not JSON through as the very messages delivered", () => {
    const object = delivered({ specversion: "1.0", id: "e-2" });
    const text = delivered("{not json");
    const batch = withReadableBodies({ queue: "archive", messages: [object.message, text.message] });
    expect(batch.messages[0]).toBe(object.message);
    expect(batch.messages[1]).toBe(text.message);
  });
});
