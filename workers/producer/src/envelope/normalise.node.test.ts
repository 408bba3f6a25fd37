import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import { normaliseEvent, normaliseEventWithJson } from "./normalise.ts";

const example = governmentCatalogue.require("gov.auth.citizen.created").example as Record<string, unknown>;
const base = {
  specversion: "1.0",
  id: "e-1",
  source: "/services/identity",
  type: "gov.auth.citizen.created",
  eventversion: 1,
  data: example,
};
const now = () => new Date("2026-11-01T12:00:00.000Z");

function failure(run: () => unknown): EdgebusError {
  try {
    run();
  } catch (error) {
    if (error instanceof EdgebusError) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("normaliseEvent", () => {
  it("defaults time and partitionkey (the catalogue's entity id) and marks the data JSON", () => {
    const record = normaliseEvent({ ...base }, governmentCatalogue, { now });
    expect(record).toMatchObject({
      specversion: "1.0",
      id: "e-1",
      time: "2026-11-01T12:00:00.000Z",
      datacontenttype: "application/json",
      partitionkey: String(example.id),
      subject: String(example.id),
    });
    expect(record.data).toEqual(example);
  });

  it("keeps what the producer set", () => {
    const record = normaliseEvent(
      {
        ...base,
        time: "2026-10-01T00:00:00Z",
        partitionkey: "p-1",
        subject: "s-1",
        eventversion: "3",
        causationid: "c-0",
      },
      governmentCatalogue,
      { now },
    );
    expect(record).toMatchObject({
      time: "2026-10-01T00:00:00Z",
      partitionkey: "p-1",
      eventversion: 3,
      causationid: "c-0",
    });
  });

  it("rejects invalid extensions with their paths", () => {
    const error = failure(() =>
      normaliseEvent({ ...base, eventversion: 1.5, traceparent: "00-abc" }, governmentCatalogue),
    );
    expect(error.code).toBe("invalid_envelope");
    expect((error.details as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual([
      "eventversion",
      "traceparent",
    ]);
  });

  it("rejects an all-zero trace id (W3C: invalid)", () => {
    const traceparent = `00-${"0".repeat(32)}-00f067aa0ba902b7-01`;
    expect(failure(() => normaliseEvent({ ...base, traceparent }, governmentCatalogue)).code).toBe("invalid_envelope");
  });

  it("422 for unknown types and schema failures", () => {
    expect(failure(() => normaliseEvent({ ...base, type: "gov.auth.citizen.creatd" }, governmentCatalogue)).code).toBe(
      "unknown_event_type",
    );
    const schema = failure(() => normaliseEvent({ ...base, data: { ...example, email: "nope" } }, governmentCatalogue));
    expect(schema.code).toBe("schema_validation_failed");
    expect(schema.status).toBe(422);
    expect(schema.details).toMatchObject({ type: "gov.auth.citizen.created", issues: [{ path: "data.email" }] });
  });

  it("requires eventversion where the catalogue says consumers order by it, naming the field the client wrote", () => {
    const { eventversion: _, ...versionless } = base;
    const missing = failure(() => normaliseEvent(versionless, governmentCatalogue));
    expect(missing.code).toBe("schema_validation_failed");
    expect(missing.status).toBe(422);
    expect(missing.message).toContain("gov.auth.citizen.created events need eventversion");
    expect(missing.details).toMatchObject({ type: "gov.auth.citizen.created", issues: [{ path: "eventversion" }] });

    const legacy = failure(() => normaliseEvent(versionless, governmentCatalogue, { mode: "legacy" }));
    expect(legacy.details).toMatchObject({ issues: [{ path: "event_version" }] });
    expect(failure(() => normaliseEvent(versionless, governmentCatalogue, { mode: "binary" })).message).toContain(
      "ce-eventversion",
    );

    // Missing version and bad data: one 422 listing both.
    const both = failure(() =>
      normaliseEvent({ ...versionless, data: { ...example, email: "nope" } }, governmentCatalogue),
    );
    expect((both.details as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      "eventversion",
      "data.email",
    ]);

    // Types that do not require it still accept an event without one.
    const granted = governmentCatalogue.require("gov.auth.role.granted");
    expect(granted.requiresEventVersion).toBeFalsy();
    const record = normaliseEvent({ ...versionless, type: granted.type, data: granted.example }, governmentCatalogue, {
      now,
    });
    expect(record.eventversion).toBeUndefined();
  });

  it("leaves room for the queue's ~100 B of metadata within 128 KB", () => {
    const sized = (bytes: number) => {
      const probe = JSON.stringify(normaliseEvent({ ...base, note: "" }, governmentCatalogue, { now }));
      return { ...base, note: "x".repeat(bytes - probe.length) };
    };
    expect(() => normaliseEvent(sized(127_900), governmentCatalogue, { now })).not.toThrow();
    expect(failure(() => normaliseEvent(sized(127_901), governmentCatalogue, { now })).code).toBe("payload_too_large");
  });

  it("enforces the 128 KB limit on the normalised event", () => {
    const error = failure(() => normaliseEvent({ ...base, note: "x".repeat(128_000) }, governmentCatalogue));
    expect(error.code).toBe("payload_too_large");
    expect(error.status).toBe(413);
  });
});

describe("normaliseEventWithJson", () => {
  it("hands back the same event as normaliseEvent and exactly its JSON", () => {
    const input = { ...base, correlationid: "c-1", custom: "x", time: "2026-11-01T11:00:00Z" };
    const { event, json } = normaliseEventWithJson({ ...input }, governmentCatalogue, { now });
    expect(event).toEqual(normaliseEvent({ ...input }, governmentCatalogue, { now }));
    expect(json).toBe(JSON.stringify(event));
  });

  it("refuses what normaliseEvent refuses, with the same error", () => {
    const input = { ...base, data: { ...example, id: "not a number" } };
    const plain = failure(() => normaliseEvent({ ...input }, governmentCatalogue, { now }));
    const withJson = failure(() => normaliseEventWithJson({ ...input }, governmentCatalogue, { now }));
    expect(withJson.code).toBe(plain.code);
    expect(withJson.message).toBe(plain.message);
    expect(withJson.details).toEqual(plain.details);
  });
});
