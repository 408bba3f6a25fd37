import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { parseSingleEvent } from "./http-binding.ts";
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from "./json-depth.ts";

const nested = (depth: number, leaf = "1") => "[".repeat(depth) + leaf + "]".repeat(depth);

describe("jsonNestsDeeperThan", () => {
  it("counts arrays and objects, not brackets inside strings (escaped quotes included)", () => {
    expect(jsonNestsDeeperThan(nested(3), 3)).toBe(false);
    expect(jsonNestsDeeperThan(nested(4), 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":[{"c":1}]}}', 4)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":{"b":[{"c":1}]}}', 3)).toBe(true);
    expect(jsonNestsDeeperThan(JSON.stringify({ s: '[[[[{{{{\\"[[[[' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan('["\\\\", [[1]]]', 2)).toBe(true);
  });

  it("counts as a character-by-character walk does, on any text of quotes, backslashes and brackets", () => {
    // The plain walk: a backslash inside a string skips the next character.
    const walk = (text: string, limit: number): boolean => {
      let depth = 0;
      let inString = false;
      for (let i = 0; i < text.length; i += 1) {
        const c = text[i];
        if (inString) {
          if (c === "\\") i += 1;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === "{" || c === "[") {
          depth += 1;
          if (depth > limit) return true;
        } else if (c === "}" || c === "]") depth -= 1;
      }
      return false;
    };
    const text = fc.string({ unit: fc.constantFrom('"', "\\", "[", "]", "{", "}", "a", ":", ","), maxLength: 80 });
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 6 }), (candidate, limit) => {
        expect(jsonNestsDeeperThan(candidate, limit)).toBe(walk(candidate, limit));
      }),
      { numRuns: 5000 },
    );
  });

  it("tolerates text that is not JSON (it only counts)", () => {
    expect(jsonNestsDeeperThan("]]]}}}", 1)).toBe(false);
    expect(jsonNestsDeeperThan('"unterminated [[[[', 1)).toBe(false);
  });
});

describe("request bodies past the nesting limit", () => {
  const event = (old: unknown) => ({
    specversion: "1.0",
    id: "depth-1",
    source: "/services/identity",
    type: "gov.auth.citizen.updated",
    eventversion: 2,
    data: { id: 1, changes: { name: { old, new: "x" } } },
  });
  const headers = new Headers({ "content-type": "application/cloudevents+json" });

  it("a 10,000-deep value anywhere is malformed_json (400) naming the limit, before parsing", () => {
    const body = JSON.stringify(event(null)).replace("null", nested(10_000));
    const refused = (() => {
      try {
        parseSingleEvent(headers, body);
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(EdgebusError);
    expect(refused).toMatchObject({ code: "malformed_json", status: 400 });
    expect((refused as EdgebusError).message).toContain(`${MAX_JSON_DEPTH} levels`);
  });

  it("an event nesting to the limit is parsed", () => {
    // event object (1) + data (2) + changes (3) + name (4) + the array levels inside `old`.
    const body = JSON.stringify(event(null)).replace("null", nested(MAX_JSON_DEPTH - 4));
    expect(() => parseSingleEvent(headers, body)).not.toThrow();
    const tooDeep = JSON.stringify(event(null)).replace("null", nested(MAX_JSON_DEPTH - 3));
    expect(() => parseSingleEvent(headers, tooDeep)).toThrow(/deeper than 64/);
  });
});
