import { describe, expect, it } from "vitest";
import type { CloudEventRecord } from "./cloud-event.ts";
import { parseQueuedEvent, QUEUE_BODY_CONTENT_TYPE, readQueueBody, toQueueMessage } from "./queue-message.ts";

const event: CloudEventRecord = {
  specversion: "1.0",
  id: "evt-1",
  source: "/services/identity",
  type: "gov.auth.citizen.created",
  time: "2026-12-01T10:00:00.000Z",
  eventversion: 3,
  partitionkey: "42",
  data: { id: 42 },
};

describe("queue message codec", () => {
  it("reads back what toQueueMessage wrote, keyed by source + id and partitioned by partitionkey", () => {
    const message = toQueueMessage(event);
    expect(message).toMatchObject({ id: "/services/identity\u0000evt-1", key: "42" });
    expect(parseQueuedEvent(readQueueBody(message.value))).toEqual({ ok: true, event });
    expect(QUEUE_BODY_CONTENT_TYPE).toBe("text");
  });

  it("reads a json body (sent before edgebus sent text, or by another sender) as it is", () => {
    const body = { ...event };
    expect(readQueueBody(body)).toBe(body);
    expect(readQueueBody(null)).toBeNull();
    expect(parseQueuedEvent(readQueueBody(body))).toEqual({ ok: true, event });
  });

  it("leaves a text body that is not JSON as the text, which parseQueuedEvent refuses (poison)", () => {
    for (const text of ["{not json", "", "evt-1"]) {
      expect(readQueueBody(text)).toBe(text);
      expect(parseQueuedEvent(readQueueBody(text))).toEqual({
        ok: false,
        reason: "message body is not a CloudEvent object",
      });
    }
  });

  it("leaves the key out when the event has no partitionkey", () => {
    const { partitionkey: _omitted, ...unkeyed } = event;
    expect(toQueueMessage(unkeyed as CloudEventRecord)).not.toHaveProperty("key");
  });

  it.each([
    [42, "message body is not a CloudEvent object"],
    [null, "message body is not a CloudEvent object"],
    [[event], "message body is not a CloudEvent object"],
    [{ ...event, specversion: "0.3" }, "specversion is not 1.0"],
    [{ ...event, id: "" }, "id is missing"],
    [{ ...event, source: undefined }, "source is missing"],
    [{ ...event, type: 7 }, "type is missing"],
    [{ ...event, time: undefined }, "time is missing"],
    [{ ...event, time: "yesterday" }, "time is not a timestamp"],
    [{ ...event, eventversion: 1.5 }, "eventversion is not an integer"],
    [{ ...event, eventversion: "3" }, "eventversion is not an integer"],
  ])("refuses %j: %s", (body, reason) => {
    expect(parseQueuedEvent(body)).toEqual({ ok: false, reason });
  });

  it("does not look at data: each consumer validates what it uses", () => {
    expect(parseQueuedEvent({ ...event, data: "not an object" })).toMatchObject({ ok: true });
  });
});
