import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../../schemas/index.ts";
import { commerceCatalogue } from "../../../test/fixtures/commerce-catalogue.ts";
import { corruptionsOf, validDataArbitrary } from "../../../test/support/catalogue-arbitraries.ts";
import type { Catalogue } from "./catalogue.ts";
import { eventJsonSchema, exampleEvent, schemaIdOf, toInputJsonSchema } from "./event-json-schema.ts";

/** A stock validator in strict mode (type lists allowed: zod emits them for nullable fields), told about our one annotation keyword. */
function strictValidator() {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  ajv.addKeyword({ keyword: "version", schemaType: "number" });
  return ajv;
}

function validatorsOf(catalogue: Catalogue) {
  const ajv = strictValidator();
  return catalogue.types().map((type) => ({ type, validate: ajv.compile(eventJsonSchema(catalogue.require(type))) }));
}

describe.each([
  ["government", governmentCatalogue],
  ["commerce", commerceCatalogue],
])("event JSON Schemas of the %s catalogue", (_, catalogue) => {
  const validators = validatorsOf(catalogue);

  it("compile in a strict JSON Schema 2020-12 validator and accept each example event", () => {
    for (const { type, validate } of validators) {
      const event = exampleEvent(catalogue.require(type));
      expect(validate(event), `${type}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("reject events that the catalogue rejects", () => {
    for (const { type, validate } of validators) {
      const event = exampleEvent(catalogue.require(type));
      const data = event.data as Record<string, unknown>;
      const [firstField] = Object.keys(data);
      const broken = [
        { ...event, data: { ...data, unexpected_field: 1 } },
        { ...event, type: `${type}x` },
        { ...event, specversion: "0.3" },
        { ...event, id: "" },
        { ...event, traceparent: "nope" },
        { ...event, data: Object.fromEntries(Object.entries(data).filter(([k]) => k !== firstField)) },
        { ...event, Upper: "x" },
      ];
      for (const candidate of broken) {
        expect(validate(candidate), `${type} accepted ${JSON.stringify(candidate).slice(0, 200)}`).toBe(false);
      }
    }
  });
});

describe("eventJsonSchema", () => {
  const definition = governmentCatalogue.require("gov.auth.citizen.created");
  const schema = eventJsonSchema(definition);

  it("identifies the type and version", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.$id).toBe(schemaIdOf("gov.auth.citizen.created", 3));
    expect(schema.$id).toBe("urn:edgebus:schema:gov.auth.citizen.created:v3");
    expect(schema.title).toBe("gov.auth.citizen.created v3");
    expect(schema.description).toBe(definition.description);
    expect(schema.version).toBe(3);
  });

  it("keeps zod's constraints and drops only non-standard formats that a pattern covers", () => {
    const { data } = schema.properties as { data: { properties: Record<string, Record<string, unknown>> } };
    const phone = data.properties.phone as { anyOf: Record<string, unknown>[] };
    expect(phone.anyOf[0]).toMatchObject({ type: "string", pattern: "^\\+[1-9]\\d{6,14}$" });
    expect(phone.anyOf[0]).not.toHaveProperty("format");
    expect(data.properties.email).toMatchObject({ type: "string", format: "email" });
    expect(data.properties.created_at).toMatchObject({ format: "date-time" });
  });

  it("renders draft-07 for embedding, without $schema", () => {
    const draft7 = eventJsonSchema(definition, { target: "draft-7", dialect: false });
    expect(draft7).not.toHaveProperty("$schema");
    expect(JSON.stringify(draft7)).not.toContain("prefixItems");
  });

  it("builds example events with the entity id as subject and partition key", () => {
    expect(exampleEvent(definition)).toMatchObject({
      specversion: "1.0",
      id: "example-citizen-created-1",
      source: "/gov/auth",
      type: "gov.auth.citizen.created",
      subject: "104233",
      partitionkey: "104233",
      data: definition.example,
    });
  });
});

describe("published JSON Schema and zod agree (property)", () => {
  const ajv = strictValidator();

  it.each(governmentCatalogue.types())("%s: same verdict on generated valid and corrupted data", (type) => {
    const definition = governmentCatalogue.require(type);
    const validate = ajv.compile(eventJsonSchema(definition));
    const schema = toInputJsonSchema(definition.data);
    const base = exampleEvent(definition);
    fc.assert(
      fc.property(validDataArbitrary(governmentCatalogue, type), (data) => {
        expect(validate({ ...base, data }), JSON.stringify(validate.errors)).toBe(true);
        for (const corruption of corruptionsOf(schema, data)) {
          expect(validate({ ...base, data: corruption.data }), `${corruption.kind} at ${corruption.path}`).toBe(false);
        }
      }),
      { numRuns: 20 },
    );
  });
});
