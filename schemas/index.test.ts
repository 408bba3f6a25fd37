/**
 * Catalogue-wide rules that every government event type must follow. Adding a type that breaks
 * one of them (an open object, a breaking version bump) fails `npm test`.
 */
import { describe, expect, it } from "vitest";
import { type JsonSchema, toInputJsonSchema } from "#shared/catalogue/event-json-schema.ts";
import { upcasterId } from "#shared/catalogue/upcaster.ts";
import { catalogueIncompatibilities } from "../scripts/catalogue-compatibility.ts";
import { commerceCatalogue } from "../test/fixtures/commerce-catalogue.ts";
import { governmentCatalogue } from "./index.ts";

/** Paths of every object schema in `schema` that allows unknown fields. */
function openObjects(schema: JsonSchema | boolean | undefined, path: string): string[] {
  if (schema === undefined || typeof schema === "boolean") return [];
  const found: string[] = [];
  const isObject = schema.type === "object" || (Array.isArray(schema.type) && schema.type.includes("object"));
  if (isObject && schema.properties && schema.additionalProperties !== false) found.push(path);
  for (const [key, child] of Object.entries(schema.properties ?? {}))
    found.push(...openObjects(child, `${path}.${key}`));
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) found.push(...openObjects(branch, path));
  found.push(...openObjects(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === "object")
    found.push(...openObjects(schema.additionalProperties, `${path}.*`));
  return found;
}

describe("government catalogue rules", () => {
  it("every version of every type is backward compatible with the one before", () => {
    expect(catalogueIncompatibilities(governmentCatalogue)).toEqual([]);
    expect(catalogueIncompatibilities(commerceCatalogue)).toEqual([]);
  });

  it("has real evolutions: citizen.created v2 adds an optional preferred_language, v3 a free-text address", () => {
    const versions = governmentCatalogue.versionsOf("gov.auth.citizen.created");
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    const [v1, v2, v3] = versions.map((v) => toInputJsonSchema(v.data));
    expect(v1?.properties).not.toHaveProperty("preferred_language");
    expect(v2?.properties).toHaveProperty("preferred_language");
    expect(v2?.required).not.toContain("preferred_language");
    const created = (address: unknown) =>
      governmentCatalogue.validateData("gov.auth.citizen.created", {
        ...(governmentCatalogue.require("gov.auth.citizen.created").example as object),
        address,
      });
    expect(JSON.stringify(v2?.properties?.address)).not.toContain('"text"');
    expect(JSON.stringify(v3?.properties?.address)).toContain('"text"');
    expect(created({ text: "789 Oak Ave, Springfield" }).ok).toBe(true);
    expect(created({ text: "" }).ok).toBe(false);
    expect(created({ text: "x", city: "Springfield" }).ok).toBe(false);
  });

  it("citizen.updated v2 needs no created_at (an update need not restate it)", () => {
    const versions = governmentCatalogue.versionsOf("gov.auth.citizen.updated");
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    const { created_at: _, ...withoutCreatedAt } = governmentCatalogue.require("gov.auth.citizen.updated")
      .example as Record<string, unknown>;
    expect(governmentCatalogue.validateData("gov.auth.citizen.updated", withoutCreatedAt).ok).toBe(true);
    expect(versions[0]?.data.safeParse(withoutCreatedAt).success).toBe(false);
  });

  it("the citizen events' aliases and seed-v1 upcasters are declared with them", () => {
    expect(governmentCatalogue.aliases()).toEqual(
      ["created", "deleted", "updated", "verified"].map((action) => ({
        alias: `citizen.${action}`,
        type: `gov.auth.citizen.${action}`,
      })),
    );
    const forms = (type: string) => (governmentCatalogue.require(type).upcasters ?? []).map(upcasterId);
    expect(forms("gov.auth.citizen.created")).toEqual(["seed-v1"]);
    expect(forms("gov.auth.citizen.updated")).toEqual(["seed-v1"]);
    expect(forms("gov.auth.citizen.verified")).toEqual(["seed-v1"]);
    expect(forms("gov.auth.citizen.deleted")).toEqual([]);
  });

  it("rejects unknown fields at every level of every type", () => {
    for (const type of governmentCatalogue.types()) {
      const schema = toInputJsonSchema(governmentCatalogue.require(type).data);
      expect(schema.additionalProperties, type).toBe(false);
      expect(openObjects(schema, "data"), type).toEqual([]);
    }
  });

  it("every type has a description and an entity id field present in its schema", () => {
    for (const type of governmentCatalogue.types()) {
      const definition = governmentCatalogue.require(type);
      expect(definition.description.length, type).toBeGreaterThan(10);
      expect(definition.entityIdField, type).toBeDefined();
      const schema = toInputJsonSchema(definition.data);
      expect(schema.required, type).toContain(definition.entityIdField);
    }
  });

  it("citizen ids are positive safe integers everywhere", () => {
    for (const type of governmentCatalogue.types()) {
      const schema = toInputJsonSchema(governmentCatalogue.require(type).data);
      const field = type.startsWith("gov.auth.citizen.") ? "id" : "citizen_id";
      const property = schema.properties?.[field];
      if (property === undefined) continue;
      const branches = property.anyOf ?? [property];
      const integer = branches.find((b) => b.type === "integer");
      expect(integer, `${type} ${field}`).toMatchObject({ exclusiveMinimum: 0, maximum: Number.MAX_SAFE_INTEGER });
    }
  });
});
