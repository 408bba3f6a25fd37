import { describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { toKafkaBinaryMessage } from "../../workers/producer/src/envelope/kafka-binding.ts";
import { fromKafkaRecord, toKafkaRecord } from "./cloud-event-binding.ts";

const base: CloudEventRecord = {
  specversion: "1.0",
  id: "e-1",
  source: "/services/identity",
  type: "gov.auth.citizen.created",
  time: "2026-11-22T08:00:00Z",
  eventversion: 3,
  partitionkey: "104233",
  edgebusdirectcontact: true,
};

/** What the reader of a Kafka record sees: the value as bytes. */
function roundTrip(event: CloudEventRecord, mode: "binary" | "structured") {
  const record = toKafkaRecord(event, "t", mode);
  const value = typeof record.value === "string" ? Buffer.from(record.value) : Buffer.from(record.value);
  return fromKafkaRecord({ value, headers: record.headers ?? [] });
}

describe("fromKafkaRecord", () => {
  it("reads back what the mirror writes, in both modes (typed extensions again in binary mode)", () => {
    const event = { ...base, datacontenttype: "application/json", data: { id: 104233, name: "A" } };
    expect(roundTrip(event, "binary")).toEqual({ ok: true, event });
    expect(roundTrip(event, "structured")).toEqual({ ok: true, event });
  });

  it("keeps text data as text, binary data as data_base64, and an event without data without it", () => {
    const text = { ...base, datacontenttype: "text/plain", data: "héllo" };
    expect(roundTrip(text, "binary")).toEqual({ ok: true, event: text });
    const bytes = {
      ...base,
      datacontenttype: "application/octet-stream",
      data_base64: Buffer.from([0, 255, 7]).toString("base64"),
    };
    expect(roundTrip(bytes, "binary")).toEqual({ ok: true, event: bytes });
    expect(roundTrip(base, "binary")).toEqual({ ok: true, event: base });
  });

  it("reads the producer's binary records (data JSON, no content-type, null for no data)", () => {
    const event = { ...base, data: { id: 1 } };
    const message = toKafkaBinaryMessage(event);
    const headers = Object.entries(message.headers ?? {}).map(([key, value]) => ({ key, value }));
    expect(fromKafkaRecord({ value: Buffer.from(message.value as string), headers })).toEqual({ ok: true, event });
    const empty = toKafkaBinaryMessage(base);
    const emptyHeaders = Object.entries(empty.headers ?? {}).map(([key, value]) => ({ key, value }));
    expect(fromKafkaRecord({ value: Buffer.from(empty.value as string), headers: emptyHeaders })).toEqual({
      ok: true,
      event: base,
    });
  });

  it("refuses records that are not CloudEvents", () => {
    expect(fromKafkaRecord({ value: Buffer.from("plain"), headers: [] })).toMatchObject({ ok: false });
    expect(
      fromKafkaRecord({
        value: Buffer.from("{"),
        headers: [{ key: "content-type", value: "application/cloudevents+json" }],
      }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/not JSON/) });
    expect(
      fromKafkaRecord({ value: Buffer.from("{}"), headers: [{ key: "ce_specversion", value: "1.0" }] }),
    ).toMatchObject({ ok: false, reason: "CloudEvent without id" });
  });
});
