import { describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { toQueueMessage } from "#shared/envelope/queue-message.ts";
import { toKafkaBinaryMessage } from "./kafka-binding.ts";

const event: CloudEventRecord = {
  specversion: "1.0",
  id: "e-1",
  source: "/services/identity",
  type: "gov.auth.citizen.created",
  time: "2026-11-01T12:00:00.000Z",
  datacontenttype: "application/json",
  eventversion: 4,
  partitionkey: "104233",
  data: { id: 104233, name: "Amina" },
};

describe("CloudEvents Kafka binding (binary mode)", () => {
  it("puts data in the value, attributes in ce_ headers and partitionkey in the key", () => {
    expect(toKafkaBinaryMessage(event)).toEqual({
      id: "/services/identity\u0000e-1",
      key: "104233",
      value: JSON.stringify({ id: 104233, name: "Amina" }),
      headers: {
        ce_specversion: "1.0",
        ce_id: "e-1",
        ce_source: "/services/identity",
        ce_type: "gov.auth.citizen.created",
        ce_time: "2026-11-01T12:00:00.000Z",
        "content-type": "application/json",
        ce_eventversion: "4",
        ce_partitionkey: "104233",
      },
    });
  });

  it("has no key without a partitionkey", () => {
    const { partitionkey: _, ...withoutKey } = event;
    expect(toKafkaBinaryMessage(withoutKey as CloudEventRecord).key).toBeUndefined();
  });

  it("queue messages carry the whole event", () => {
    expect(JSON.parse(toQueueMessage(event).value)).toEqual(event);
  });
});
