import { describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { fromLegacyEnvelope, legacyEnvelopeSchema, toLegacyEnvelope } from "./legacy.ts";

const legacy = {
  event_id: "0b7c6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e",
  event_type: "gov.auth.citizen.created",
  event_version: 3,
  timestamp: "2026-11-01T10:00:00.000Z",
  correlation_id: "corr-1",
  source: { service: "identity-service", instance: "identity-7f9c", version: "2.4.1" },
  data: { id: 42 },
};

describe("legacy envelope", () => {
  it("maps legacy → CloudEvent attributes", () => {
    expect(fromLegacyEnvelope(legacyEnvelopeSchema.parse(legacy))).toEqual({
      specversion: "1.0",
      id: legacy.event_id,
      type: "gov.auth.citizen.created",
      source: "identity-service",
      sourceinstance: "identity-7f9c",
      sourceversion: "2.4.1",
      time: "2026-11-01T10:00:00.000Z",
      eventversion: 3,
      correlationid: "corr-1",
      datacontenttype: "application/json",
      data: { id: 42 },
    });
  });

  it("maps CloudEvent → legacy and back without loss", () => {
    const event: CloudEventRecord = {
      specversion: "1.0",
      id: "e-1",
      source: "permits-service",
      type: "gov.permits.application.submitted",
      time: "2026-11-01T10:00:00.000Z",
      eventversion: 2,
      correlationid: "c-9",
      causationid: "e-0",
      data: { application_id: "A-1" },
    };
    const out = toLegacyEnvelope(event);
    expect(out).toEqual({
      event_id: "e-1",
      event_type: "gov.permits.application.submitted",
      event_version: 2,
      timestamp: "2026-11-01T10:00:00.000Z",
      correlation_id: "c-9",
      causation_id: "e-0",
      source: "permits-service",
      data: { application_id: "A-1" },
    });
    const back = fromLegacyEnvelope(legacyEnvelopeSchema.parse(out));
    expect(back).toMatchObject({ ...event, datacontenttype: "application/json" });
  });

  it("keeps instance and version through a round trip", () => {
    const attributes = fromLegacyEnvelope(legacyEnvelopeSchema.parse(legacy));
    const record = { ...attributes } as CloudEventRecord;
    expect(toLegacyEnvelope(record).source).toEqual(legacy.source);
  });

  it("leaves source out when the envelope has none (the producer takes the key's only source)", () => {
    const { source: _, ...withoutSource } = legacy;
    const attributes = fromLegacyEnvelope(legacyEnvelopeSchema.parse(withoutSource));
    expect(attributes).not.toHaveProperty("source");
    expect(attributes).not.toHaveProperty("sourceinstance");
  });

  it("converts epoch-millisecond timestamps", () => {
    const parsed = legacyEnvelopeSchema.parse({ ...legacy, timestamp: Date.UTC(2026, 0, 2) });
    expect(parsed.timestamp).toBe("2026-01-02T00:00:00.000Z");
    expect(legacyEnvelopeSchema.parse({ ...legacy, timestamp: 253_402_300_799_999 }).timestamp).toBe(
      "9999-12-31T23:59:59.999Z",
    );
  });

  it.each([
    ["unknown field", { ...legacy, extra: 1 }],
    ["empty event_id", { ...legacy, event_id: "" }],
    ["fractional event_version", { ...legacy, event_version: 1.5 }],
    ["bad timestamp", { ...legacy, timestamp: "yesterday" }],
    ["epoch milliseconds past year 9999", { ...legacy, timestamp: 253_402_300_800_000 }],
    ["epoch milliseconds no Date can hold", { ...legacy, timestamp: Number.MAX_SAFE_INTEGER }],
    ["source without service", { ...legacy, source: { instance: "x" } }],
  ])("rejects %s", (_, input) => {
    expect(legacyEnvelopeSchema.safeParse(input).success).toBe(false);
  });
});
