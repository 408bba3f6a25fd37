import { describe, expect, it } from "vitest";
import { scopePatternMatches, scopePatternProblem, sourceProblem } from "./scope-pattern.ts";

describe("scope patterns are segment globs", () => {
  it.each<[string, string, boolean]>([
    // `**` spans whole segments, zero or more of them
    ["/services/revenue/**", "/services/revenue", true],
    ["/services/revenue/**", "/services/revenue/eu-west/1", true],
    ["/services/revenue/**", "/services/revenue-evil", false],
    ["/services/revenue/**", "/services/revenueX/y", false],
    ["/services/revenue/**", "/services", false],
    // `*` stays inside one segment
    ["/services/*", "/services/identity", true],
    ["/services/*", "/services/identity/eu", false],
    ["/services/*", "/services", false],
    ["/services/permits*", "/services/permits", true],
    ["/services/permits*", "/services/permits-2", true],
    ["/services/permits*", "/services/permits/eu", false],
    ["/services/*/inbound", "/services/permits/inbound", true],
    ["/services/*/inbound", "/services/a/b/inbound", false],
    ["/services/**/inbound", "/services/a/b/inbound", true],
    ["/services/**/inbound", "/services/inbound", true],
    ["/services/p*s-*", "/services/permits-2", true],
    ["/services/p*s-*", "/services/p-2", false],
    // everything, and literals
    ["**", "/services/identity", true],
    ["**", "urn:edgebus:contract", true],
    ["*", "identity-service", true],
    ["*", "/services/identity", false],
    ["/services/identity", "/services/identity", true],
    ["/services/identity", "/services/identity/", false],
    ["/services/identity", "/services/identit", false],
    ["https://svc.example.gov/**", "https://svc.example.gov/permits", true],
    ["https://svc.example.gov/**", "https://svc.example.gov.evil/permits", false],
  ])("source %s vs %s → %s", (pattern, value, expected) => {
    expect(scopePatternMatches(pattern, value, "source")).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ["gov.permits.**", "gov.permits.application.submitted", true],
    ["gov.permits.*", "gov.permits.application.submitted", false],
    ["gov.permits.*.*", "gov.permits.application.submitted", true],
    ["gov.permits*.**", "gov.permitsx.application.submitted", true],
    ["gov.permits.**", "gov.permitsx.application.submitted", false],
    ["gov.*.citizen.*", "gov.auth.citizen.created", true],
    ["gov.*.citizen.*", "gov.auth.x.citizen.created", false],
    ["gov.**.created", "gov.auth.citizen.created", true],
    ["gov.auth.citizen.created", "gov.auth.citizen.created", true],
    ["gov.auth.citizen.created", "gov.auth.citizen.createdx", false],
    ["gov.a.b", "gov.aXb", false],
    ["**", "gov.auth.citizen.created", true],
  ])("type %s vs %s → %s", (pattern, value, expected) => {
    expect(scopePatternMatches(pattern, value, "type")).toBe(expected);
  });

  it("matches in linear time: no backtracking blow-up on a pathological pattern and a long value", () => {
    // As a regular expression (`^.*a.*a…b$`) this pattern backtracks for hours on such a value.
    const pattern = `${"*a".repeat(12)}*b`;
    const value = "a".repeat(100_000);
    for (const kind of ["source", "type"] as const) {
      const started = performance.now();
      expect(scopePatternMatches(pattern, value, kind)).toBe(false);
      expect(scopePatternMatches(pattern, `${value}b`, kind)).toBe(true);
      expect(performance.now() - started).toBeLessThan(250);
    }
    // Many segments against many `**`: still polynomial and fast.
    const segments = `/${Array.from({ length: 2_000 }, () => "a").join("/")}`;
    const started = performance.now();
    expect(scopePatternMatches("/**/a/**/a/**/a/**/a/**/b", segments, "source")).toBe(false);
    expect(performance.now() - started).toBeLessThan(250);
  });

  it.each<[string, "source" | "type", RegExp]>([
    ["/services/a**", "source", /\*\* must be a whole segment/],
    ["/services/***", "source", /\*\* must be a whole segment/],
    ["gov.**x", "type", /\*\* must be a whole segment/],
    ["/services//permits", "source", /empty segment/],
    ["/services/permits/", "source", /empty segment/],
    ["/services/../identity", "source", /'\.\.'/],
    ["/services/./identity", "source", /'\.'/],
    ["gov..permits", "type", /empty segment/],
    [".gov.permits", "type", /empty segment/],
    ["", "source", /empty/],
    ["a\u0000b", "source", /U\+0000/],
    ["x".repeat(1025), "source", /1024/],
  ])("refuses the pattern %j (%s)", (pattern, kind, problem) => {
    expect(scopePatternProblem(pattern, kind)).toMatch(problem);
  });

  it.each([
    "**",
    "*",
    "/services/**",
    "/services/*/inbound",
    "urn:edgebus:*",
    "https://svc.example.gov/**",
    "identity*",
  ])("accepts the source pattern %s", (pattern) => {
    expect(scopePatternProblem(pattern, "source")).toBeUndefined();
  });

  it.each(["**", "gov.permits.**", "gov.*.citizen.*", "gov.auth.citizen.created"])(
    "accepts the type pattern %s",
    (pattern) => {
      expect(scopePatternProblem(pattern, "type")).toBeUndefined();
    },
  );
});

describe("event sources with empty or dot segments are refused", () => {
  it.each([
    "/services/revenue/../identity",
    "/services/revenue/./x",
    "/services/revenue/%2e%2e/identity",
    "/services/revenue/%2E/x",
    "/services//identity",
    "/services/identity/",
    "//services",
    "..",
    "/",
  ])("%s", (source) => {
    expect(sourceProblem(source)).toMatch(/segment/);
  });

  it.each([
    "/services/identity",
    "identity-service",
    "urn:edgebus:contract",
    "https://svc.example.gov/permits",
    "/services/v1.2/x",
    "/services/...",
  ])("accepts %s", (source) => {
    expect(sourceProblem(source)).toBeUndefined();
  });
});
