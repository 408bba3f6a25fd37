/**
 * `compileFastParse` must answer like zod: the same output (values and key order) for every input
 * zod accepts, `REJECTED` for every input it refuses. Checked per construct on hand-written
 * schemas, and as a property over every type of every shipped catalogue with valid generated
 * data, every single-field corruption of it, random changes and arbitrary JSON.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadCatalogues, SHIPPED_CATALOGUES } from "../../../schemas/catalogues.ts";
import { corruptedDataArbitrary, validDataArbitrary } from "../../../test/support/catalogue-arbitraries.ts";
import { compileFastParse, REJECTED } from "./fast-parse.ts";

/** zod's answer and the compiled one agree: same data (same key order) or both refuse. */
function expectSameAnswer(schema: z.ZodType, input: unknown): void {
  const fast = compileFastParse(schema);
  if (fast === undefined) throw new Error("schema not compiled");
  const zod = schema.safeParse(input);
  const answer = fast(input);
  if (!zod.success) {
    expect(answer, `zod refuses ${JSON.stringify(input)}`).toBe(REJECTED);
    return;
  }
  expect(answer).not.toBe(REJECTED);
  expect(answer).toStrictEqual(zod.data);
  expect(JSON.stringify(answer)).toBe(JSON.stringify(zod.data));
}

describe("compileFastParse on single constructs", () => {
  it("strings: lengths, patterns (a global regex too), formats", () => {
    const schema = z.strictObject({
      name: z.string().min(1).max(5),
      code: z.string().regex(/^[A-Z]{2}$/g),
      email: z.email().max(20),
      at: z.iso.datetime({ offset: true }),
      day: z.iso.date(),
    });
    const valid = { name: "ab", code: "IE", email: "a@b.ie", at: "2026-01-01T00:00:00+01:00", day: "2026-02-03" };
    expectSameAnswer(schema, valid);
    expectSameAnswer(schema, valid);
    for (const [key, value] of [
      ["name", ""],
      ["name", "abcdef"],
      ["code", "ie"],
      ["email", "not-an-email"],
      ["at", "2026-01-01T00:00:00"],
      ["day", "2026-13-40"],
      ["name", 5],
    ] as const) {
      expectSameAnswer(schema, { ...valid, [key]: value });
    }
  });

  it("numbers: int, bounds, NaN and infinities", () => {
    const schema = z.object({ n: z.int().positive().max(10), f: z.number().gte(-1).lt(1) });
    for (const n of [1, 10, 0, 11, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "1"]) {
      expectSameAnswer(schema, { n, f: 0 });
    }
    for (const f of [-1, 1, 0.999, -1.0001, Number.NEGATIVE_INFINITY]) expectSameAnswer(schema, { n: 1, f });
  });

  it("objects: stripped and strict unknown keys, optional keys absent, present or undefined, key order", () => {
    const shape = { b: z.string(), a: z.number().optional(), c: z.boolean().nullable() };
    for (const schema of [z.object(shape), z.strictObject(shape)]) {
      expectSameAnswer(schema, { c: null, a: 1, b: "x" });
      expectSameAnswer(schema, { c: true, b: "x" });
      expectSameAnswer(schema, { c: true, b: "x", a: undefined });
      expectSameAnswer(schema, { c: true, b: "x", extra: 1 });
      expectSameAnswer(schema, { b: "x" });
      expectSameAnswer(schema, { c: false, a: "1", b: "x" });
      expectSameAnswer(schema, [1]);
      expectSameAnswer(schema, null);
    }
  });

  it("arrays, enums, literals and unions (the first option that accepts)", () => {
    const schema = z.object({
      tags: z
        .array(z.enum(["a", "b"]))
        .min(1)
        .max(2),
      kind: z.literal(["x", 1]),
      value: z.union([z.string().max(3), z.number(), z.strictObject({ v: z.string() }), z.object({ v: z.unknown() })]),
    });
    const valid = { tags: ["a"], kind: "x", value: "abc" };
    expectSameAnswer(schema, valid);
    for (const change of [
      { tags: [] },
      { tags: ["a", "b", "a"] },
      { tags: ["c"] },
      { kind: 1 },
      { kind: "y" },
      { value: "abcd" },
      { value: 3 },
      { value: { v: "s" } },
      { value: { v: 2, w: 1 } },
      { value: { w: 1 } },
      { value: true },
    ]) {
      expectSameAnswer(schema, { ...valid, ...change });
    }
  });

  it("partial records with enum keys: known keys in input order, unknown, symbol and __proto__ keys, non-plain objects", () => {
    const schema = z.partialRecord(
      z.enum(["name", "email", "1"]),
      z.strictObject({ old: z.unknown(), new: z.unknown() }),
    );
    const change = { old: "a", new: "b" };
    expectSameAnswer(schema, {});
    expectSameAnswer(schema, { email: change, name: { old: null, new: 1 } });
    expectSameAnswer(schema, { name: change, 1: change });
    expectSameAnswer(schema, { name: { new: "b" } });
    expectSameAnswer(schema, { name: {} });
    expectSameAnswer(schema, { name: change, phone: change });
    expectSameAnswer(schema, { name: { ...change, extra: 1 } });
    expectSameAnswer(schema, { name: change, 2: change });
    expectSameAnswer(schema, { name: undefined });
    expectSameAnswer(schema, JSON.parse('{"__proto__": {"old": 1, "new": 2}, "email": {"old": 1, "new": 2}}'));
    expectSameAnswer(schema, JSON.parse('{"__proto__": 5}'));
    expectSameAnswer(schema, { name: change, [Symbol("s")]: change });
    const hidden = { name: change };
    Object.defineProperty(hidden, Symbol("h"), { value: change, enumerable: false });
    Object.defineProperty(hidden, "phone", { value: change, enumerable: false });
    expectSameAnswer(schema, hidden);
    expectSameAnswer(schema, Object.assign(Object.create(null), { name: change }));
    expectSameAnswer(schema, new (class Changes {})());
    expectSameAnswer(schema, new Date(0));
    for (const input of [[change], null, "name", 1, undefined]) expectSameAnswer(schema, input);
    expectSameAnswer(z.partialRecord(z.literal(["a", "b"]), z.int().positive()), { b: 1, a: 2 });
    expectSameAnswer(z.partialRecord(z.literal(["a", "b"]), z.int().positive()), { b: 0 });
  });

  it("leaves transforms, defaults, refinements and exact optionals to zod", () => {
    expect(compileFastParse(z.string().transform((s) => s.length))).toBeUndefined();
    expect(compileFastParse(z.object({ a: z.string().default("x") }))).toBeUndefined();
    expect(compileFastParse(z.object({ a: z.string() }).refine(() => true))).toBeUndefined();
    expect(compileFastParse(z.string().trim())).toBeUndefined();
    expect(compileFastParse(z.object({ a: z.exactOptional(z.string()) }))).toBeUndefined();
    expect(compileFastParse(z.record(z.string(), z.number()))).toBeUndefined();
    expect(compileFastParse(z.record(z.enum(["a", "b"]), z.number()))).toBeUndefined();
    expect(compileFastParse(z.partialRecord(z.string().max(3), z.number()))).toBeUndefined();
    expect(compileFastParse(z.partialRecord(z.literal(["a", 1]), z.number()))).toBeUndefined();
    expect(compileFastParse(z.looseRecord(z.enum(["a"]), z.number()))).toBeUndefined();
    expect(compileFastParse(z.looseObject({ a: z.string() }))).toBeUndefined();
    expect(compileFastParse(z.url())).toBeUndefined();
  });
});

const catalogues = loadCatalogues(Object.keys(SHIPPED_CATALOGUES).join(","));
const compiledTypes = catalogues.types().filter((type) => compileFastParse(catalogues.require(type).data));

/** Random single changes to a JSON value: a key dropped, added or given another value, at any depth. */
function mutated(value: unknown, random: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0) return fc.constant([]);
    return fc
      .nat(value.length - 1)
      .chain((index) => mutated(value[index], random).map((item) => value.map((old, i) => (i === index ? item : old))));
  }
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value);
    const entries = value as Record<string, unknown>;
    return fc.oneof(
      random.map((replacement) => replacement),
      fc.string({ maxLength: 8 }).chain((key) => random.map((added) => ({ ...entries, [key]: added }))),
      ...(keys.length === 0
        ? []
        : [
            fc.constantFrom(...keys).map((key) => {
              const copy = { ...entries };
              delete copy[key];
              return copy;
            }),
            fc
              .constantFrom(...keys)
              .chain((key) => mutated(entries[key], random).map((inner) => ({ ...entries, [key]: inner }))),
          ]),
    );
  }
  return random;
}

describe("compileFastParse answers like zod for every catalogue type", () => {
  it("compiles most of the catalogue (the rest stays with zod)", () => {
    expect(compiledTypes.length).toBeGreaterThan(catalogues.types().length / 2);
    expect(compiledTypes).toContain("gov.auth.citizen.created");
    // Its `changes` is a partial record keyed by an enum.
    expect(compiledTypes).toContain("gov.auth.citizen.updated");
  });

  for (const type of compiledTypes) {
    const catalogue = catalogues.pluginOf(type)?.catalogue;
    if (catalogue === undefined) throw new Error(`no catalogue for ${type}`);
    const schema = catalogues.require(type).data;

    it(`${type}: its example, valid data, corruptions, random changes, any JSON`, () => {
      expectSameAnswer(schema, catalogues.require(type).example);
      fc.assert(
        fc.property(validDataArbitrary(catalogue, type), (data) => expectSameAnswer(schema, data)),
        { numRuns: 40 },
      );
      fc.assert(
        fc.property(corruptedDataArbitrary(catalogue, type), ({ data }) => expectSameAnswer(schema, data)),
        { numRuns: 40 },
      );
      const random = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.string({ maxLength: 300 }));
      fc.assert(
        fc.property(
          validDataArbitrary(catalogue, type).chain((data) => mutated(data, random)),
          (data) => expectSameAnswer(schema, data),
        ),
        { numRuns: 60 },
      );
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 3 }), (data) => expectSameAnswer(schema, data)),
        { numRuns: 20 },
      );
    });
  }
});
