import { describe, expect, it } from "vitest";
import { TopicMapping } from "./topic-mapping.ts";

describe("TopicMapping", () => {
  it("is the identity without rules", () => {
    expect(new TopicMapping().map("gov.auth.citizen")).toBe("gov.auth.citizen");
  });
  it("applies include, then exclude", () => {
    const mapping = new TopicMapping({ include: ["gov.*"], exclude: ["gov.notification.*"] });
    expect(mapping.map("gov.auth.citizen")).toBe("gov.auth.citizen");
    expect(mapping.map("gov.notification.message")).toBeNull();
    expect(mapping.map("other.topic")).toBeNull();
  });
  it("renames with the first matching rule, carrying the wildcard", () => {
    const mapping = new TopicMapping({
      rename: [
        { from: "gov.auth.citizen", to: "citizens" },
        { from: "gov.*", to: "onprem.gov.*" },
      ],
    });
    expect(mapping.map("gov.auth.citizen")).toBe("citizens");
    expect(mapping.map("gov.revenue.payment")).toBe("onprem.gov.revenue.payment");
    expect(mapping.map("gov+revenue")).toBe("gov+revenue");
  });
});
