import { describe, expect, it } from "vitest";
import { eventKey } from "./cloud-event.ts";

describe("eventKey", () => {
  it("is source, U+0000, id", () => {
    for (const [source, id] of [
      ["/services/identity", "e-1"],
      ["", ""],
      ["/bench/identity", crypto.randomUUID()],
      ["urn:émoji:😀", "id with spaces and \u0000"],
    ] as const) {
      expect(eventKey({ source, id })).toBe(`${source}\u0000${id}`);
    }
  });

  it("tells apart keys whose parts only differ in where they split", () => {
    expect(eventKey({ source: "/a", id: "b/c" })).not.toBe(eventKey({ source: "/a/b", id: "c" }));
  });
});
