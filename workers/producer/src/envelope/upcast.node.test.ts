/**
 * The government design's events (test/fixtures/seed-events/, as the design shows them) through
 * every envelope path they can take, then `upcastEvent`: the full type, the source, the current
 * shape of `data`, and the form they came in.
 */
import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import created from "../../../../test/fixtures/seed-events/citizen.created.json" with { type: "json" };
import updated from "../../../../test/fixtures/seed-events/citizen.updated.json" with { type: "json" };
import verified from "../../../../test/fixtures/seed-events/citizen.verified.json" with { type: "json" };
import { type IncomingEvent, type ParseOptions, parseBatch, parseSingleEvent } from "./http-binding.ts";
import { upcastEvent } from "./upcast.ts";

const NOW = new Date("2026-12-01T12:00:00Z");
const KEY_SOURCE: ParseOptions = { missingSource: () => "/auth-service" };

const json = (contentType: string) => new Headers({ "content-type": contentType });
const single = (body: unknown, contentType = "application/json", options = KEY_SOURCE) =>
  parseSingleEvent(json(contentType), JSON.stringify(body), options);
const upcast = (incoming: IncomingEvent) => upcastEvent(incoming, governmentCatalogue, { now: () => NOW });

function thrown(run: () => unknown): EdgebusError {
  try {
    run();
  } catch (error) {
    if (error instanceof EdgebusError) return error;
    throw error;
  }
  throw new Error("expected an EdgebusError");
}

const createdAttributes = {
  specversion: "1.0",
  id: "evt_123_1705312200",
  type: "gov.auth.citizen.created",
  source: "/auth-service",
  sourceinstance: "auth-1",
  sourceversion: "1.2.0",
  // The CloudEvents SDK writes times with milliseconds.
  time: "2024-01-15T10:30:00.000Z",
  eventversion: 1,
  correlationid: "req_abc123",
  datacontenttype: "application/json",
  data: {
    id: 123,
    name: "Maria Garcia",
    email: "maria@email.com",
    phone: "+15550123",
    address: { text: "456 Main St, Springfield" },
    email_verified: false,
    identity_verified: false,
    created_at: "2024-01-15T10:30:00Z",
  },
};

describe("the design's events as its services send them", () => {
  it("citizen.created as an application/json body (the legacy envelope) → the current CloudEvent", () => {
    const incoming = single(created);
    expect(incoming).toMatchObject({ mode: "legacy", sourceGivenAs: "service" });
    const result = upcast(incoming);
    expect(result.receivedAs).toBe("seed-v1");
    expect(result.attributes).toEqual(createdAttributes);
  });

  it("the same body under application/cloudevents+json (no specversion: read as the legacy envelope)", () => {
    const result = upcast(single(created, "application/cloudevents+json"));
    expect(result).toEqual({ attributes: createdAttributes, receivedAs: "seed-v1" });
  });

  it("citizen.updated keeps the instance, has no sourceversion (the example sends none)", () => {
    const { attributes, receivedAs } = upcast(single(updated));
    expect(receivedAs).toBe("seed-v1");
    expect(attributes).toMatchObject({
      type: "gov.auth.citizen.updated",
      source: "/auth-service",
      sourceinstance: "auth-2",
      eventversion: 5,
      time: "2024-01-16T10:30:00.000Z",
      data: {
        phone: "+15550199",
        address: { text: "789 Oak Ave, Springfield" },
        updated_at: "2024-01-16T10:30:00.000Z",
      },
    });
    expect(attributes).not.toHaveProperty("sourceversion");
  });

  it("citizen.verified without source takes the key's only source; verified_at is the timestamp", () => {
    const incoming = single(verified);
    expect(incoming.sourceGivenAs).toBe("api-key");
    const { attributes, receivedAs } = upcast(incoming);
    expect(receivedAs).toBe("seed-v1");
    expect(attributes).toEqual({
      specversion: "1.0",
      id: "evt_123_1705485000",
      type: "gov.auth.citizen.verified",
      source: "/auth-service",
      time: "2024-01-17T10:30:00.000Z",
      eventversion: 6,
      datacontenttype: "application/json",
      data: {
        id: 123,
        verification_type: "identity",
        verified_by: "EMP-000456",
        verification_method: "in_person",
        document_reference: "doc_789",
        verified_at: "2024-01-17T10:30:00.000Z",
      },
    });
  });

  it("without a key source to fall back on, a legacy envelope without source is a 400 naming source", () => {
    const error = thrown(() => single(verified, "application/json", {}));
    expect(error.code).toBe("invalid_envelope");
    expect(error.details).toEqual({ issues: [{ path: "source", message: "required" }] });
  });

  it("a key that cannot name one source: its 422 reaches the caller (per item in a batch)", () => {
    const refuse: ParseOptions = {
      missingSource: () => {
        throw new EdgebusError("schema_validation_failed", "no single source");
      },
    };
    expect(thrown(() => single(verified, "application/json", refuse)).code).toBe("schema_validation_failed");
    const items = parseBatch(json("application/cloudevents-batch+json"), JSON.stringify([created, verified]), refuse);
    expect(items.map((item) => item.ok)).toEqual([true, false]);
  });

  it("all three in one batch", () => {
    const items = parseBatch(
      json("application/cloudevents-batch+json"),
      JSON.stringify([created, updated, verified]),
      KEY_SOURCE,
    );
    const events = items.map((item) => {
      if (!item.ok) throw item.error;
      return upcast(item.event);
    });
    expect(events.map((event) => [event.attributes.type, event.attributes.source, event.receivedAs])).toEqual([
      ["gov.auth.citizen.created", "/auth-service", "seed-v1"],
      ["gov.auth.citizen.updated", "/auth-service", "seed-v1"],
      ["gov.auth.citizen.verified", "/auth-service", "seed-v1"],
    ]);
    expect(events[0]?.attributes).toEqual(createdAttributes);
  });

  it("a structured CloudEvent with the design's type and data (a service that moved to CloudEvents)", () => {
    const event = {
      specversion: "1.0",
      id: created.event_id,
      source: "/auth-service",
      type: created.event_type,
      time: created.timestamp,
      eventversion: created.event_version,
      correlationid: created.correlation_id,
      data: created.data,
    };
    const { attributes, receivedAs } = upcast(single(event, "application/cloudevents+json"));
    expect(receivedAs).toBe("seed-v1");
    const { sourceinstance: _i, sourceversion: _v, datacontenttype: _t, ...rest } = createdAttributes;
    expect(attributes).toEqual(rest);
  });

  it("binary mode with the design's type and data", () => {
    const headers = new Headers({
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": verified.event_id,
      "ce-source": "/auth-service",
      "ce-type": "citizen.verified",
      "ce-eventversion": "6",
    });
    const { attributes, receivedAs } = upcast(parseSingleEvent(headers, JSON.stringify(verified.data)));
    expect(receivedAs).toBe("seed-v1");
    // No time in the event: the time of receipt (the SDK's), in `time` and in `verified_at` alike.
    expect(attributes).toMatchObject({ type: "gov.auth.citizen.verified", source: "/auth-service", data: { id: 123 } });
    expect(attributes.time).toEqual(expect.any(String));
    expect((attributes.data as { verified_at: string }).verified_at).toBe(attributes.time);
  });
});

describe("upcastEvent", () => {
  it("resolves an alias with current-shape data; nothing is upcast", () => {
    const data = governmentCatalogue.require("gov.auth.citizen.deleted").example;
    const incoming: IncomingEvent = {
      mode: "structured",
      attributes: { specversion: "1.0", id: "e-1", source: "/auth-service", type: "citizen.deleted", data },
    };
    expect(upcast(incoming)).toEqual({ attributes: { ...incoming.attributes, type: "gov.auth.citizen.deleted" } });
  });

  it("leaves current events and unknown types as they are", () => {
    const current: IncomingEvent = {
      mode: "structured",
      attributes: {
        specversion: "1.0",
        id: "e-2",
        source: "/services/identity",
        type: "gov.auth.citizen.created",
        data: governmentCatalogue.require("gov.auth.citizen.created").example,
      },
    };
    expect(upcast(current)).toEqual({ attributes: current.attributes });
    const unknown: IncomingEvent = { mode: "legacy", attributes: { ...current.attributes, type: "citizen.renamed" } };
    expect(upcast(unknown)).toEqual({ attributes: unknown.attributes });
  });

  it("a form that cannot be mapped: 422 with the form and the sender's paths", () => {
    const bad = structuredClone(created);
    bad.data.snapshot.phone = "555-0123";
    bad.data.citizen_id = 124;
    const error = thrown(() => upcast(single(bad)));
    expect(error.code).toBe("schema_validation_failed");
    expect(error.status).toBe(422);
    expect(error.message).toBe(
      "data is in the seed-v1 form of gov.auth.citizen.created but cannot be mapped to its current shape",
    );
    expect(error.details).toMatchObject({
      type: "gov.auth.citizen.created",
      received_as: "seed-v1",
      issues: [{ path: "data.citizen_id" }, { path: "data.snapshot.phone" }],
    });
  });
});
