import { describe, expect, it } from "vitest";
import { globMatcher } from "./glob.ts";

describe("globMatcher", () => {
  it("matches * across dots and line breaks, everything else literally", () => {
    const any = globMatcher(["*"]);
    expect(any("gov.auth.citizen")).toBe(true);
    expect(any("a\nb")).toBe(true);
    const gov = globMatcher(["gov.*", "audit"]);
    expect(gov("gov.auth.citizen")).toBe(true);
    expect(gov("govXauth")).toBe(false);
    expect(gov("audit")).toBe(true);
    expect(gov("audit.x")).toBe(false);
    expect(globMatcher(["a+b(c)"])("a+b(c)")).toBe(true);
    expect(globMatcher([])("anything")).toBe(false);
  });
});
