import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Catalogue } from "#shared/catalogue/catalogue.ts";
import { type BreakingChangeKind, breakingChanges, catalogueIncompatibilities } from "./catalogue-compatibility.ts";

/** Distinct `[path, kind]` pairs, in report order (one keyword change may yield two messages). */
function kinds(previous: z.ZodType, next: z.ZodType): [string, BreakingChangeKind][] {
  const pairs = breakingChanges(previous, next).map((c) => `${c.path}\u0000${c.kind}`);
  return [...new Set(pairs)].map((p) => p.split("\u0000") as [string, BreakingChangeKind]);
}

const base = z.strictObject({
  id: z.int().positive(),
  email: z.email(),
  status: z.enum(["open", "closed"]),
  note: z.string().max(100).optional(),
  phone: z.string().nullable(),
});

describe("compatible changes", () => {
  it.each<[string, z.ZodType]>([
    ["identical schema", base],
    ["an added optional field", base.extend({ preferred_language: z.string().optional() })],
    ["an added enum value", base.extend({ status: z.enum(["open", "closed", "archived"]) })],
    ["a relaxed bound", base.extend({ note: z.string().max(500).optional() })],
    ["integer widened to number", base.extend({ id: z.number().positive() })],
    ["null newly allowed", base.extend({ email: z.email().nullable() })],
    ["a required field made optional", base.extend({ email: z.email().optional() })],
    ["a closed object opened", z.looseObject(base.shape)],
    [
      "a literal kept as a union branch",
      base.extend({ status: z.union([z.enum(["open", "closed"]), z.literal("x")]) }),
    ],
  ])("%s", (_, next) => {
    expect(breakingChanges(base, next)).toEqual([]);
  });

  it("a literal widened to a pattern that matches it", () => {
    const previous = z.strictObject({ by: z.literal("system") });
    const next = z.strictObject({ by: z.union([z.string().regex(/^EMP-\d{6}$/), z.literal("system")]) });
    expect(breakingChanges(previous, next)).toEqual([]);
    expect(breakingChanges(previous, z.strictObject({ by: z.string().regex(/^[a-z]+$/) }))).toEqual([]);
  });
});

describe("breaking changes", () => {
  it.each<[string, z.ZodType, [string, BreakingChangeKind][]]>([
    ["a removed field", base.omit({ note: true }), [["data.note", "field_removed"]]],
    ["an optional field made required", base.extend({ note: z.string().max(100) }), [["data.note", "field_required"]]],
    [
      "a new required field",
      base.extend({ preferred_language: z.string() }),
      [["data.preferred_language", "field_required"]],
    ],
    ["an enum value removed", base.extend({ status: z.enum(["open"]) }), [["data.status", "enum_narrowed"]]],
    [
      "a string narrowed to a literal",
      base.extend({ note: z.literal("x").optional() }),
      [["data.note", "enum_narrowed"]],
    ],
    [
      "number narrowed to integer",
      z.strictObject({ n: z.int() }),
      [
        ["data.n", "type_narrowed"],
        ["data.n", "bound_tightened"], // z.int() is also bounded to the safe-integer range
      ],
    ],
    ["a maximum lowered", base.extend({ note: z.string().max(50).optional() }), [["data.note", "bound_tightened"]]],
    ["a minimum raised", base.extend({ id: z.int().min(10) }), [["data.id", "bound_tightened"]]],
    ["null no longer allowed", base.extend({ phone: z.string() }), [["data.phone", "nullable_removed"]]],
    [
      "a pattern added",
      base.extend({ phone: z.string().regex(/^\+/).nullable() }),
      [["data.phone", "pattern_changed"]],
    ],
    [
      "a format added",
      base.extend({ note: z.email().max(100).optional() }),
      [
        ["data.note", "pattern_changed"],
        ["data.note", "format_changed"],
      ],
    ],
    ["a type changed", base.extend({ id: z.string() }), [["data.id", "type_narrowed"]]],
    ["an open object closed", z.strictObject(base.shape), []],
  ])("%s", (_, next, expected) => {
    const previous = _ === "number narrowed to integer" ? z.strictObject({ n: z.number() }) : base;
    const from = _ === "an open object closed" ? z.looseObject(base.shape) : previous;
    const found = kinds(from, next);
    if (expected.length === 0) expect(found).toEqual([["data", "properties_closed"]]);
    else expect(found).toEqual(expected);
  });

  it("reports changes deep inside objects, arrays, records and nullable objects", () => {
    const item = z.strictObject({ sku: z.string(), quantity: z.int().min(1) });
    const previous = z.strictObject({
      address: z.strictObject({ country: z.string() }).nullable(),
      lines: z.array(item),
      tags: z.record(z.string(), z.string()),
    });
    const next = z.strictObject({
      address: z.strictObject({ country: z.string().length(2) }).nullable(),
      lines: z.array(item.extend({ quantity: z.int().min(2) })),
      tags: z.record(z.string(), z.string().max(10)),
    });
    expect(kinds(previous, next)).toEqual([
      ["data.address.country", "bound_tightened"],
      ["data.lines[].quantity", "bound_tightened"],
      ["data.tags.*", "bound_tightened"],
    ]);
  });

  it("detects a nullable object that lost null and a dropped union branch", () => {
    const previous = z.strictObject({
      a: z.strictObject({ x: z.string() }).nullable(),
      b: z.union([z.string(), z.int()]),
    });
    const next = z.strictObject({ a: z.strictObject({ x: z.string() }), b: z.string() });
    expect(kinds(previous, next)).toEqual([
      ["data.a", "nullable_removed"],
      ["data.b", "type_narrowed"],
    ]);
    const threeWay = z.strictObject({ b: z.union([z.string(), z.int(), z.boolean()]) });
    expect(kinds(threeWay, z.strictObject({ b: z.union([z.string(), z.boolean()]) }))).toEqual([
      ["data.b", "union_branch_removed"],
    ]);
  });

  it("treats exclusive bounds as tighter than inclusive ones", () => {
    expect(kinds(z.strictObject({ n: z.number().min(1) }), z.strictObject({ n: z.number().gt(1) }))).toEqual([
      ["data.n", "bound_tightened"],
    ]);
    expect(kinds(z.strictObject({ n: z.number().gt(1) }), z.strictObject({ n: z.number().min(1) }))).toEqual([]);
  });

  it("treats constraining an unconstrained value as narrowing", () => {
    expect(kinds(z.strictObject({ v: z.unknown() }), z.strictObject({ v: z.string() }))).toEqual([
      ["data.v", "type_narrowed"],
    ]);
  });

  it("flags a literal that the new pattern would reject", () => {
    expect(
      kinds(z.strictObject({ by: z.literal("system") }), z.strictObject({ by: z.string().regex(/^EMP-/) })),
    ).toEqual([["data.by", "type_narrowed"]]);
  });
});

describe("catalogueIncompatibilities", () => {
  const v1 = z.strictObject({ id: z.string(), size: z.int() });
  const catalogueWith = (v2: z.ZodType, example: unknown) =>
    new Catalogue(
      [
        {
          domain: "shop",
          topics: [{ name: "acme.shop.widget", partitions: 1 }],
          events: [
            {
              type: "acme.shop.widget.created",
              version: 2,
              description: "test",
              data: v2,
              previousVersions: [{ version: 1, data: v1 }],
              example,
            },
          ],
        },
      ],
      { namespace: "acme" },
    );

  it("passes an additive evolution", () => {
    const catalogue = catalogueWith(v1.extend({ colour: z.string().optional() }), { id: "a", size: 1 });
    expect(catalogueIncompatibilities(catalogue)).toEqual([]);
  });

  it("names the type and versions of a breaking evolution", () => {
    const catalogue = catalogueWith(v1.omit({ size: true }), { id: "a" });
    expect(catalogueIncompatibilities(catalogue)).toEqual([
      {
        type: "acme.shop.widget.created",
        from: 1,
        to: 2,
        changes: [{ path: "data.size", kind: "field_removed", message: "field removed" }],
      },
    ]);
  });
});
