import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { toInputJsonSchema } from "#shared/catalogue/event-json-schema.ts";
import { governmentCatalogue } from "../../schemas/index.ts";
import { commerceCatalogue } from "../fixtures/commerce-catalogue.ts";
import {
  type CorruptionKind,
  corruptedDataArbitrary,
  corruptionsOf,
  validDataArbitrary,
  validEventDataArbitrary,
} from "./catalogue-arbitraries.ts";

describe.each([
  ["government", governmentCatalogue],
  ["commerce", commerceCatalogue],
])("arbitraries for the %s catalogue", (_, catalogue: Catalogue) => {
  it.each(catalogue.types())("%s: every generated value is valid", (type) => {
    fc.assert(
      fc.property(validDataArbitrary(catalogue, type), (data) => {
        const result = catalogue.validateData(type, data);
        expect(result.ok ? [] : result.issues).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it.each(catalogue.types())("%s: every corruption is rejected at the corrupted path", (type) => {
    const schema = toInputJsonSchema(catalogue.require(type).data);
    fc.assert(
      fc.property(validDataArbitrary(catalogue, type), (data) => {
        const corruptions = corruptionsOf(schema, data);
        expect(corruptions.length).toBeGreaterThan(0);
        for (const corruption of corruptions) {
          const result = catalogue.validateData(type, corruption.data);
          expect(result.ok, `${corruption.kind} at ${corruption.path} was accepted`).toBe(false);
          if (!result.ok) {
            expect(
              result.issues.map((i) => i.path),
              `${corruption.kind} at ${corruption.path}`,
            ).toContain(corruption.path);
          }
        }
      }),
      { numRuns: 15 },
    );
  });

  it("corruptedDataArbitrary yields rejected data", () => {
    for (const type of catalogue.types()) {
      fc.assert(
        fc.property(corruptedDataArbitrary(catalogue, type), (corruption) => {
          expect(catalogue.validateData(type, corruption.data).ok).toBe(false);
        }),
        { numRuns: 10 },
      );
    }
  });

  it("validEventDataArbitrary covers every type", () => {
    const seen = new Set(fc.sample(validEventDataArbitrary(catalogue), 2000).map((e) => e.type));
    expect([...seen].sort()).toEqual(catalogue.types());
  });
});

describe("corruptionsOf", () => {
  it("produces every kind of corruption over the government catalogue", () => {
    const kinds = new Set<CorruptionKind>();
    for (const type of governmentCatalogue.types()) {
      const definition = governmentCatalogue.require(type);
      for (const c of corruptionsOf(toInputJsonSchema(definition.data), definition.example)) kinds.add(c.kind);
    }
    expect([...kinds].sort()).toEqual([
      "malformed_string",
      "missing_required_field",
      "out_of_enum",
      "out_of_range",
      "unknown_field",
      "wrong_type",
    ]);
  });

  it("corrupts exactly one field and leaves the input untouched", () => {
    const definition = governmentCatalogue.require("gov.auth.citizen.created");
    const example = structuredClone(definition.example) as Record<string, unknown>;
    const corruptions = corruptionsOf(toInputJsonSchema(definition.data), example);
    expect(example).toEqual(definition.example);
    const email = corruptions.filter((c) => c.path === "data.email").map((c) => c.kind);
    expect(email.sort()).toEqual(["malformed_string", "missing_required_field", "wrong_type"]);
    const malformed = corruptions.find((c) => c.path === "data.email" && c.kind === "malformed_string");
    expect({ ...(malformed?.data as object), email: example.email }).toEqual(example);
    expect(corruptions.some((c) => c.path === "data.address.postal_code")).toBe(true);
    expect(corruptions.some((c) => c.path === "data.unexpected_field" && c.kind === "unknown_field")).toBe(true);
  });
});
