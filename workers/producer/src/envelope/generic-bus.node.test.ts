import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { busEnvelopeSchema, fromBusEnvelope, looksLikeBusEnvelope } from "./generic-bus.ts";
import { parseBatch, parseSingleEvent } from "./http-binding.ts";

const orderCreated = {
  eventId: "8e0c4f2a-5b1d-4c3e-9f7a-2d6b8c1e0a94",
  eventType: "order.created",
  timestamp: "2024-01-01T00:00:00Z",
  source: "order-service",
  version: "1.0",
  data: { orderId: "ord_7Hq2LmX9pR4k" },
};

const json = { "content-type": "application/json" };

describe("the event bus envelope", () => {
  it("maps to CloudEvent attributes", () => {
    expect(fromBusEnvelope(busEnvelopeSchema.parse(orderCreated))).toEqual({
      specversion: "1.0",
      id: orderCreated.eventId,
      type: "order.created",
      time: "2024-01-01T00:00:00Z",
      source: "order-service",
      schemaversion: "1.0",
      datacontenttype: "application/json",
      data: orderCreated.data,
    });
  });

  it("takes source, correlation and trace from the learning hub's metadata", () => {
    const { source: _, ...rest } = orderCreated;
    const hub = { ...rest, metadata: { correlationId: "req_xyz789", source: "user-service", traceId: "trace_456" } };
    expect(fromBusEnvelope(busEnvelopeSchema.parse(hub))).toMatchObject({
      source: "user-service",
      correlationid: "req_xyz789",
      traceid: "trace_456",
    });
  });

  it("is recognised in every mode the legacy envelope is, and in batches", () => {
    expect(looksLikeBusEnvelope(orderCreated)).toBe(true);
    expect(looksLikeBusEnvelope({ ...orderCreated, specversion: "1.0" })).toBe(false);
    for (const contentType of ["application/json", "application/cloudevents+json"]) {
      const incoming = parseSingleEvent(new Headers({ "content-type": contentType }), JSON.stringify(orderCreated));
      expect(incoming.mode).toBe("bus");
      expect(incoming.attributes.type).toBe("order.created");
    }
    const [item] = parseBatch(
      new Headers({ "content-type": "application/cloudevents-batch+json" }),
      JSON.stringify([orderCreated]),
    );
    expect(item?.ok && item.event.mode).toBe("bus");
  });

  it("takes the key's only source when none is given, and refuses without one", () => {
    const { source: _, ...sourceless } = orderCreated;
    const text = JSON.stringify(sourceless);
    const incoming = parseSingleEvent(new Headers(json), text, { missingSource: () => "/services/orders" });
    expect(incoming).toMatchObject({ sourceGivenAs: "api-key", attributes: { source: "/services/orders" } });
    expect(() => parseSingleEvent(new Headers(json), text)).toThrow(EdgebusError);
  });

  it.each([
    ["unknown field", { ...orderCreated, priority: "high" }, ""],
    ["timestamp not RFC 3339", { ...orderCreated, timestamp: "01/01/2024" }, "timestamp"],
    ["version not a version", { ...orderCreated, version: "one" }, "version"],
    ["sources that disagree", { ...orderCreated, metadata: { source: "other-service" } }, "metadata.source"],
    ["unknown metadata field", { ...orderCreated, metadata: { tenant: "x" } }, "metadata"],
  ])("refuses %s, naming where", (_, body, path) => {
    try {
      parseSingleEvent(new Headers(json), JSON.stringify(body));
      expect.unreachable();
    } catch (error) {
      expect((error as EdgebusError).code).toBe("invalid_envelope");
      const issues = ((error as EdgebusError).details as { issues: { path: string }[] }).issues;
      expect(issues.map((issue) => issue.path)).toContain(path);
    }
  });
});
