/**
 * seed-v1 through the catalogue (`Catalogue.upcast`: the upcaster, then the current schema with
 * issues moved back to the sender's paths): the government design's three examples, as kept in
 * test/fixtures/seed-events/, and every mapping rule with its refusals.
 */
import { describe, expect, it } from "vitest";
import type { SourceGivenAs } from "#shared/catalogue/upcaster.ts";
import created from "../../test/fixtures/seed-events/citizen.created.json" with { type: "json" };
import updated from "../../test/fixtures/seed-events/citizen.updated.json" with { type: "json" };
import verified from "../../test/fixtures/seed-events/citizen.verified.json" with { type: "json" };
import { governmentCatalogue } from "../index.ts";
import { citizenCreatedFromSeedV1, citizenUpdatedFromSeedV1, citizenVerifiedFromSeedV1 } from "./seed-v1.ts";

type Json = Record<string, unknown>;

const TIME = "2024-01-16T10:30:00Z";

function upcast(
  type: string,
  data: unknown,
  source: { source?: string; sourceGivenAs?: SourceGivenAs } = {},
): ReturnType<typeof governmentCatalogue.upcast> {
  return governmentCatalogue.upcast(`gov.auth.citizen.${type}`, {
    data,
    time: TIME,
    source: source.source ?? "auth-service",
    sourceGivenAs: source.sourceGivenAs ?? "service",
  });
}

/** The issues of a refused upcast. */
function issuesOf(type: string, data: unknown): { path: string; message: string }[] {
  const outcome = upcast(type, data);
  if (outcome === undefined || outcome.ok)
    throw new Error(`expected ${type} to be refused: ${JSON.stringify(outcome)}`);
  expect(outcome.form).toBe("seed-v1");
  return outcome.issues;
}

const clone = <T>(value: T): T => structuredClone(value);

describe("the fixtures are the design's examples", () => {
  it("each upcaster's example is its fixture's data", () => {
    expect(citizenCreatedFromSeedV1.example).toEqual(created.data);
    expect(citizenUpdatedFromSeedV1.example).toEqual(updated.data);
    expect(citizenVerifiedFromSeedV1.example).toEqual(verified.data);
  });

  it("short types, no specversion; verified has no source", () => {
    expect([created, updated, verified].map((event) => event.event_type)).toEqual([
      "citizen.created",
      "citizen.updated",
      "citizen.verified",
    ]);
    expect(verified).not.toHaveProperty("source");
    expect(created.source).toEqual({ service: "auth-service", instance: "auth-1", version: "1.2.0" });
  });
});

describe("seed-v1 → the current shape", () => {
  it("citizen.created: the snapshot's fields, E.164 phone, address text kept", () => {
    expect(upcast("created", created.data)).toEqual({
      ok: true,
      form: "seed-v1",
      source: "/auth-service",
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
    });
  });

  it("citizen.updated: updated_at is the event's time, changes in the fields' current form", () => {
    expect(upcast("updated", updated.data)).toEqual({
      ok: true,
      form: "seed-v1",
      source: "/auth-service",
      data: {
        id: 123,
        name: "Maria Garcia",
        email: "maria@email.com",
        phone: "+15550199",
        address: { text: "789 Oak Ave, Springfield" },
        email_verified: true,
        identity_verified: true,
        updated_at: TIME,
        changes: {
          phone: { old: "+15550123", new: "+15550199" },
          address: { old: { text: "456 Main St, Springfield" }, new: { text: "789 Oak Ave, Springfield" } },
        },
      },
    });
  });

  it("citizen.verified: citizen_id → id, employee_456 → EMP-000456, verified_at is the event's time", () => {
    expect(upcast("verified", verified.data)).toEqual({
      ok: true,
      form: "seed-v1",
      source: "/auth-service",
      data: {
        id: 123,
        verification_type: "identity",
        verified_by: "EMP-000456",
        verification_method: "in_person",
        document_reference: "doc_789",
        verified_at: TIME,
      },
    });
  });

  it("the current shape is not recognised (no upcast)", () => {
    for (const type of ["created", "updated", "verified", "deleted"]) {
      expect(upcast(type, governmentCatalogue.require(`gov.auth.citizen.${type}`).example)).toBeUndefined();
    }
  });
});

describe("source", () => {
  it.each([
    ["a service name (source.service) gets a leading /", "auth-service", "service", "/auth-service"],
    ["a service path is kept", "/services/auth", "service", undefined],
    ["a source attribute is kept", "auth-service", "attribute", undefined],
    ["the key's source is kept", "/auth-service", "api-key", undefined],
  ] as const)("%s", (_, source, sourceGivenAs, expected) => {
    const outcome = upcast("verified", verified.data, { source, sourceGivenAs });
    expect(outcome?.ok).toBe(true);
    expect(outcome?.ok === true ? outcome.source : "refused").toBe(expected);
  });
});

describe("refusals name the field as the sender wrote it", () => {
  it("citizen_id must equal snapshot.id", () => {
    const data = clone(created.data);
    data.citizen_id = 124;
    expect(issuesOf("created", data)).toEqual([
      { path: "data.citizen_id", message: "must equal data.snapshot.id (both name the citizen)" },
    ]);
    const { id: _, ...withoutId } = created.data.snapshot;
    expect(issuesOf("created", { ...created.data, snapshot: withoutId })[0]?.path).toBe("data.snapshot.id");
    expect(issuesOf("updated", { citizen_id: 123 })[0]?.path).toBe("data.snapshot");
  });

  it("a phone that is not unambiguous", () => {
    const data = clone(created.data);
    data.snapshot.phone = "555-0123";
    expect(issuesOf("created", data)).toEqual([
      {
        path: "data.snapshot.phone",
        message:
          "cannot be written in E.164: it has no country code (a leading +), so the country it belongs to cannot be told",
      },
    ]);
    const change = clone(updated.data);
    change.changes.phone.new = "+44 (0)20 7946 0958";
    expect(issuesOf("updated", change).map((issue) => issue.path)).toEqual(["data.changes.phone.new"]);
  });

  it("a null phone or address stays null", () => {
    const data = clone(created.data) as unknown as { snapshot: Json };
    data.snapshot.phone = null;
    data.snapshot.address = null;
    const outcome = upcast("created", data);
    expect(outcome?.ok && outcome.data).toMatchObject({ phone: null, address: null });
  });

  it("an empty address text, a bad email: the current schema's issues at the seed's paths", () => {
    const data = clone(updated.data);
    data.snapshot.address = "";
    data.snapshot.email = "maria-at-email";
    expect(issuesOf("updated", data).map((issue) => issue.path)).toEqual([
      "data.snapshot.email",
      "data.snapshot.address",
    ]);
  });

  it("a structured address passes, its problems at data.snapshot.address.*", () => {
    const data = clone(created.data) as unknown as { snapshot: Json };
    data.snapshot.address = { line1: "789 Oak Ave", city: "Springfield", postal_code: "62701", country: "US" };
    expect(upcast("created", data)?.ok).toBe(true);
    data.snapshot.address = { line1: "789 Oak Ave", postal_code: "62701", country: "US" };
    expect(issuesOf("created", data)).toEqual([
      { path: "data.snapshot.address.city", message: "required field is missing (string)" },
    ]);
  });

  it("unknown fields, at the top and in the snapshot", () => {
    const data = {
      ...clone(created.data),
      source_system: "crm",
      snapshot: { ...created.data.snapshot, nickname: "M" },
    };
    expect(issuesOf("created", data)).toEqual([
      { path: "data.source_system", message: "unknown field" },
      { path: "data.snapshot.nickname", message: "unknown field" },
    ]);
  });

  it("a field named __proto__ is refused like any other unknown field", () => {
    const changes = JSON.parse('{"__proto__": {"old": 1, "new": 2}}');
    expect(issuesOf("updated", { ...clone(updated.data), changes }).map((issue) => issue.path)).toEqual([
      "data.changes.__proto__",
    ]);
    const verification = JSON.parse(JSON.stringify(verified.data).replace("{", '{"__proto__": {"x": 1},'));
    expect(issuesOf("verified", verification).map((issue) => issue.path)).toEqual(["data.__proto__"]);
    const snapshot = JSON.parse(JSON.stringify(created.data).replace('"snapshot":{', '"snapshot":{"__proto__":{},'));
    expect(issuesOf("created", snapshot).map((issue) => issue.path)).toEqual(["data.snapshot.__proto__"]);
  });

  it("a created event carries no changes", () => {
    expect(issuesOf("created", { ...created.data, changes: updated.data.changes })[0]?.path).toBe("data.changes");
    expect(upcast("created", { ...created.data, changes: null })?.ok).toBe(true);
  });

  it("a created event without created_at takes the event's time", () => {
    const { created_at: _, ...snapshot } = created.data.snapshot;
    const outcome = upcast("created", { ...created.data, snapshot });
    expect(outcome?.ok && outcome.data).toMatchObject({ created_at: TIME });
  });
});

describe("changes", () => {
  it("Avro's {old_value, new_value} → {old, new}; booleans written as strings → booleans", () => {
    const data = {
      ...clone(updated.data),
      changes: {
        phone: { old_value: "+1-555-0123", new_value: "+1-555-0199" },
        email_verified: { old_value: "false", new_value: "true" },
        name: { old_value: null, new_value: "Maria Garcia" },
      },
    };
    const outcome = upcast("updated", data);
    expect(outcome?.ok && (outcome.data as Json).changes).toEqual({
      phone: { old: "+15550123", new: "+15550199" },
      email_verified: { old: false, new: true },
      name: { old: null, new: "Maria Garcia" },
    });
    const badPhone = { ...data, changes: { phone: { old_value: "+1-555-0123", new_value: "call me" } } };
    expect(issuesOf("updated", badPhone).map((issue) => issue.path)).toEqual(["data.changes.phone.new_value"]);
  });

  it("null or missing changes → {}", () => {
    for (const changes of [null, undefined]) {
      const outcome = upcast("updated", { ...clone(updated.data), changes });
      expect(outcome?.ok && (outcome.data as Json).changes).toEqual({});
    }
  });

  it("refuses both forms at once, other keys, and fields that cannot change", () => {
    const mixed = { ...clone(updated.data), changes: { phone: { old: "+1-555-0123", new_value: "+1-555-0199" } } };
    expect(issuesOf("updated", mixed)).toEqual([
      { path: "data.changes.phone", message: "holds both {old, new} and {old_value, new_value}; send one of the two" },
    ]);
    const extra = { ...clone(updated.data), changes: { phone: { old: "+1-555-0123", new: "+1-555-0199", at: 1 } } };
    expect(issuesOf("updated", extra)).toEqual([{ path: "data.changes.phone.at", message: "unknown field" }]);
    const immutable = { ...clone(updated.data), changes: { id: { old: 1, new: 123 } } };
    expect(issuesOf("updated", immutable).map((issue) => issue.path)).toEqual(["data.changes.id"]);
    expect(issuesOf("updated", { ...clone(updated.data), changes: "phone" })[0]?.path).toBe("data.changes");
  });
});

describe("verified", () => {
  it("keeps EMP ids and system; refuses other staff ids at data.verified_by", () => {
    for (const [written, current] of [
      ["employee_1", "EMP-000001"],
      ["EMP-000412", "EMP-000412"],
      ["system", "system"],
    ]) {
      const outcome = upcast("verified", { ...verified.data, verified_by: written });
      expect(outcome?.ok && (outcome.data as Json).verified_by).toBe(current);
    }
    expect(issuesOf("verified", { ...verified.data, verified_by: "employee_1234567" })[0]?.path).toBe(
      "data.verified_by",
    );
  });

  it("keeps a verified_at it was given; a missing document_reference is null", () => {
    const { document_reference: _, ...rest } = verified.data;
    const outcome = upcast("verified", { ...rest, verified_at: "2024-01-17T09:00:00Z" });
    expect(outcome?.ok && outcome.data).toMatchObject({
      verified_at: "2024-01-17T09:00:00Z",
      document_reference: null,
    });
  });

  it("refuses id beside citizen_id; a bad citizen_id is reported at data.citizen_id", () => {
    expect(issuesOf("verified", { ...verified.data, id: 123 })[0]?.path).toBe("data.id");
    expect(issuesOf("verified", { ...verified.data, citizen_id: "123" })[0]?.path).toBe("data.citizen_id");
  });
});
