import { describe, expect, it } from "vitest";
import { z } from "zod";
import { formatPath, MAX_REPORTED_ISSUES, toDataIssues } from "./data-issues.ts";

function issuesOf(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  if (result.success) throw new Error("expected the input to be rejected");
  return toDataIssues(result.error, input);
}

describe("formatPath", () => {
  it("renders keys, indices and odd keys", () => {
    expect(formatPath("data", [])).toBe("data");
    expect(formatPath("data", ["findings", 0, "code"])).toBe("data.findings[0].code");
    expect(formatPath("data", ["template_data", "a-b"])).toBe('data.template_data["a-b"]');
  });
});

describe("toDataIssues", () => {
  const schema = z.strictObject({
    email: z.email(),
    nested: z.strictObject({ n: z.int() }),
    list: z.array(z.strictObject({ code: z.string() })),
  });

  it("reports each failing field with a data-rooted path", () => {
    const issues = issuesOf(schema, { email: "nope", nested: { n: 1.5 }, list: [{ code: 7 }] });
    expect(issues.map((i) => i.path)).toEqual(["data.email", "data.nested.n", "data.list[0].code"]);
    expect(issues[0]?.message).toMatch(/email/i);
  });

  it("names a missing field as missing, not as the wrong type", () => {
    const issues = issuesOf(schema, { nested: {}, list: [] });
    expect(issues).toContainEqual({ path: "data.email", message: "required field is missing (string)" });
    expect(issues).toContainEqual({ path: "data.nested.n", message: "required field is missing (number)" });
  });

  it("reports a null field as the wrong type, not as missing", () => {
    const issues = issuesOf(schema, { email: null, nested: { n: 1 }, list: [] });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe("data.email");
    expect(issues[0]?.message).not.toMatch(/missing/);
  });

  it("reports every unknown field at its own path", () => {
    const issues = issuesOf(schema, { email: "a@b.example", nested: { n: 1, x: 1 }, list: [], y: 2, z: 3 });
    expect(issues.map((i) => i.path).sort()).toEqual(["data.nested.x", "data.y", "data.z"]);
    expect(issues.every((i) => i.message === "unknown field")).toBe(true);
  });

  it("reports a non-object as the value as a whole", () => {
    expect(issuesOf(schema, "hello")).toEqual([
      { path: "data", message: "Invalid input: expected object, received string" },
    ]);
  });

  it("reports a failed union through its clearly closest branch, else as the union", () => {
    const postal = z.strictObject({ line1: z.string(), city: z.string() });
    const text = z.strictObject({ text: z.string().min(1) });
    const union = z.strictObject({ address: z.union([postal, text]).nullable() });
    expect(issuesOf(union, { address: { line1: "1 Main St" } })).toEqual([
      { path: "data.address.city", message: "required field is missing (string)" },
    ]);
    expect(issuesOf(union, { address: { text: "" } })[0]?.path).toBe("data.address.text");
    // Nothing to tell the branches apart: the union's own issue.
    expect(issuesOf(union, { address: 12 }).map((issue) => issue.path)).toEqual(["data.address"]);
    const ip = z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" });
    expect(issuesOf(z.strictObject({ ip }), { ip: "nope" })).toEqual([
      { path: "data.ip", message: "must be an IPv4 or IPv6 address" },
    ]);
  });

  it("bounds the number of issues", () => {
    const list = Array.from({ length: 500 }, () => ({ code: 1 }));
    expect(issuesOf(schema, { email: "a@b.example", nested: { n: 1 }, list })).toHaveLength(MAX_REPORTED_ISSUES);
  });
});
