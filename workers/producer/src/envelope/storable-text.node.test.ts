import { describe, expect, it } from "vitest";
import { findUnstorableText, MAX_UNSTORABLE_ISSUES, unstorableTextProblem } from "./storable-text.ts";

describe("text Postgres cannot store", () => {
  it.each([
    ["a\u0000b", /U\+0000/],
    ["\u0000", /U\+0000/],
    ["a\ud800", /unpaired surrogate \(U\+D800\)/],
    ["\ud800b", /U\+D800/],
    ["\udfff", /U\+DFFF/],
    ["\udc00\ud800", /U\+DC00/],
    ["😀\ud83d", /U\+D83D/],
  ])("refuses %j", (text, message) => {
    expect(unstorableTextProblem(text)).toMatch(message);
  });

  it.each(["", "plain", "😀", "\u0001\u001f\u007f", "\ufffe\uffff", "\u202eevil", "\ud83d\ude00", "a".repeat(100_000)])(
    "accepts %j",
    (text) => {
      expect(unstorableTextProblem(text)).toBeUndefined();
    },
  );

  it("finds every place in a JSON value, field names included, with its path", () => {
    const value = {
      id: "ok",
      source: "/s\u0000",
      data: { name: "a\ud800", list: ["fine", { "k\u0000": 1 }], "a b": "\udfff", n: 1, t: true, z: null },
    };
    expect(findUnstorableText(value)).toEqual([
      { path: "source", message: expect.stringMatching(/U\+0000/) },
      { path: "data.name", message: expect.stringMatching(/U\+D800/) },
      { path: 'data.list[1]["k\\u0000"]', message: expect.stringMatching(/^the field name contains U\+0000/) },
      { path: 'data["a b"]', message: expect.stringMatching(/U\+DFFF/) },
    ]);
    expect(findUnstorableText({ name: "\u0000" }, ["data"])).toEqual([
      { path: "data.name", message: expect.any(String) },
    ]);
    expect(findUnstorableText("\u0000")).toEqual([{ path: "", message: expect.any(String) }]);
    expect(findUnstorableText({ a: [1, "x", { b: "y" }] })).toEqual([]);
  });

  it(`reports at most ${MAX_UNSTORABLE_ISSUES} places`, () => {
    const many = Array.from({ length: 1000 }, () => "\u0000");
    expect(findUnstorableText(many)).toHaveLength(MAX_UNSTORABLE_ISSUES);
  });
});
