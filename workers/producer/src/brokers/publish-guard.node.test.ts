import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8Bytes } from "./publish-guard.ts";

describe("utf8Bytes", () => {
  it("counts what TextEncoder writes, for any string (lone surrogates included)", () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(
        // Any UTF-16 code units, so pairs, lone and reversed surrogates all occur.
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 0x7ff }),
            fc.integer({ min: 0xd7f0, max: 0xe010 }),
            fc.integer({ min: 0, max: 0xffff }),
          ),
        ),
        (units) => {
          const text = String.fromCharCode(...units);
          return utf8Bytes(text) === encoder.encode(text).byteLength;
        },
      ),
      { numRuns: 1000 },
    );
    for (const text of ["", "a", "é", "€", "😀", "\ud800", "\udc00", "a\ud800b", "\ud83d\ude00\ud83d"]) {
      expect(utf8Bytes(text)).toBe(encoder.encode(text).byteLength);
    }
  });
});
