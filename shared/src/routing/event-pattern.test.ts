import { describe, expect, it } from "vitest";
import { type EventPattern, eventPatternSchema, matchesPattern } from "./event-pattern.ts";

const event = {
  type: "gov.revenue.payment.completed",
  source: "/services/revenue",
  data: { amount: 125.5, currency: "EUR", tags: ["fee", "permit"], payer: { kind: "citizen" } },
};

describe("event patterns", () => {
  it.each<[string, EventPattern, boolean]>([
    ["empty pattern", {}, true],
    ["exact", { type: ["gov.revenue.payment.completed"] }, true],
    ["exact miss", { type: ["gov.revenue.payment.failed"] }, false],
    ["any of several", { type: ["x", "gov.revenue.payment.completed"] }, true],
    ["prefix", { type: [{ prefix: "gov.revenue." }] }, true],
    ["suffix", { source: [{ suffix: "/revenue" }] }, true],
    ["wildcard", { type: [{ wildcard: "gov.*.payment.*" }] }, true],
    ["wildcard miss", { type: [{ wildcard: "gov.*.refund.*" }] }, false],
    ["anything-but", { data: { currency: [{ "anything-but": ["USD", "GBP"] }] } }, true],
    ["anything-but miss", { data: { currency: [{ "anything-but": "EUR" }] } }, false],
    ["anything-but prefix", { type: [{ "anything-but": { prefix: "gov.auth." } }] }, true],
    ["exists", { data: { amount: [{ exists: true }] } }, true],
    ["not exists", { data: { refund: [{ exists: false }] } }, true],
    ["exists miss", { data: { refund: [{ exists: true }] } }, false],
    ["numeric range", { data: { amount: [{ numeric: [">", 100, "<=", 200] }] } }, true],
    ["numeric miss", { data: { amount: [{ numeric: ["<", 100] }] } }, false],
    ["numeric on string", { data: { currency: [{ numeric: [">", 0] }] } }, false],
    ["array field, any element", { data: { tags: ["permit"] } }, true],
    ["nested", { data: { payer: { kind: ["citizen"] } } }, true],
    ["all fields must match", { type: [{ prefix: "gov.revenue." }], source: ["/other"] }, false],
    ["missing field with prefix", { subject: [{ prefix: "a" }] }, false],
  ])("%s", (_, pattern, expected) => {
    expect(eventPatternSchema.parse(pattern)).toEqual(pattern);
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it("rejects malformed patterns", () => {
    expect(eventPatternSchema.safeParse({ type: [] }).success).toBe(false);
    expect(eventPatternSchema.safeParse({ type: [{ regex: ".*" }] }).success).toBe(false);
    expect(eventPatternSchema.safeParse({ type: [{ numeric: ["!=", 1] }] }).success).toBe(false);
  });
});
