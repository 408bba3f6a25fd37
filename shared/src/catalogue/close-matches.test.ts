import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../../schemas/index.ts";
import { closeMatches, editDistance, suggestionDistance } from "./close-matches.ts";

const types = [
  "gov.auth.citizen.created",
  "gov.auth.citizen.updated",
  "gov.auth.citizen.deleted",
  "gov.permits.application.submitted",
  "gov.revenue.payment.completed",
];

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["abc", "", 3],
    ["", "abc", 3],
    ["kitten", "sitting", 3],
    ["created", "create", 1],
    ["flaw", "lawn", 2],
  ])("%s → %s is %i", (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe("editDistance with a limit", () => {
  it("is exact up to the limit and limit + 1 beyond it", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), fc.nat({ max: 10 }), (a, b, limit) => {
        const exact = editDistance(a, b);
        expect(editDistance(a, b, limit)).toBe(exact <= limit ? exact : limit + 1);
      }),
    );
  });
});

describe("closeMatches", () => {
  it("suggests the type one typo away first", () => {
    expect(closeMatches("gov.auth.citizen.create", types, 3)[0]).toBe("gov.auth.citizen.created");
    expect(closeMatches("gov.permit.application.submitted", types, 1)).toEqual(["gov.permits.application.submitted"]);
  });

  it("finds a type given without its namespace or domain", () => {
    expect(closeMatches("citizen.created", types, 3)).toEqual(["gov.auth.citizen.created"]);
    expect(closeMatches("auth.citizen.deleted", types, 3)[0]).toBe("gov.auth.citizen.deleted");
  });

  it("is case-insensitive and ignores surrounding whitespace", () => {
    expect(closeMatches(" GOV.AUTH.CITIZEN.UPDATED ", types, 1)).toEqual(["gov.auth.citizen.updated"]);
  });

  it("suggests nothing for unrelated, empty or huge input", () => {
    expect(closeMatches("order.placed", types, 3)).toEqual([]);
    expect(closeMatches("", types, 3)).toEqual([]);
    expect(closeMatches("x".repeat(10_000), types, 3)).toEqual([]);
  });

  it("respects the limit and orders nearest first", () => {
    const all = closeMatches("gov.auth.citizen.removed", types, 10);
    expect(all.length).toBeGreaterThanOrEqual(2);
    const distances = all.map((t) => suggestionDistance("gov.auth.citizen.removed", t) ?? Number.POSITIVE_INFINITY);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(closeMatches("gov.auth.citizen.removed", types, 1)).toHaveLength(1);
    expect(closeMatches("gov.auth.citizen.removed", types, 0)).toEqual([]);
  });

  it("never suggests the input itself", () => {
    expect(closeMatches("gov.auth.citizen.created", types, 5)).not.toContain("gov.auth.citizen.created");
  });
});

describe("closeMatches over the government catalogue (property)", () => {
  const all = governmentCatalogue.types();

  it("the catalogue's types are at least 3 edits apart, so one typo is never ambiguous", () => {
    for (const a of all)
      for (const b of all) if (a < b) expect(editDistance(a, b), `${a} ~ ${b}`).toBeGreaterThanOrEqual(3);
  });

  it("puts the intended type first after any single-character typo", () => {
    const typo = fc
      .record({
        type: fc.constantFrom(...all),
        position: fc.nat(),
        kind: fc.constantFrom("insert", "delete", "substitute"),
        char: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz._-0123456789"),
      })
      .map(({ type, position, kind, char }) => {
        const at = position % (type.length + (kind === "insert" ? 1 : 0));
        if (kind === "insert") return { type, input: type.slice(0, at) + char + type.slice(at) };
        if (kind === "delete") return { type, input: type.slice(0, at) + type.slice(at + 1) };
        return { type, input: type.slice(0, at) + char + type.slice(at + 1) };
      })
      .filter(({ type, input }) => type !== input);
    fc.assert(
      fc.property(typo, ({ type, input }) => {
        expect(closeMatches(input, all, 3)[0]).toBe(type);
      }),
      { numRuns: 500 },
    );
  });

  it("never throws and respects the limit for arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.nat({ max: 5 }), (input, limit) => {
        expect(closeMatches(input, all, limit).length).toBeLessThanOrEqual(limit);
      }),
    );
  });
});
