import { describe, expect, it } from "vitest";
import { isEdgebusError } from "#shared/errors.ts";
import { parseCommandList, parseSingleCommand } from "./command-body.ts";

const limits = { maxCommands: 3 };

/** The error code and message a parse throws, or the parsed commands. */
function outcome(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    if (!isEdgebusError(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

describe("command bodies", () => {
  it("turns numbers and booleans into the strings Redis expects, keeping order", () => {
    expect(parseSingleCommand(["set", "k", 7, true, 1.5])).toEqual(["set", "k", "7", "true", "1.5"]);
    expect(
      parseCommandList(
        [
          ["incr", "n"],
          ["get", "n"],
        ],
        limits,
      ),
    ).toEqual([
      ["incr", "n"],
      ["get", "n"],
    ]);
  });

  // Valid bodies take a hand-written check and invalid ones the schema; both must refuse and
  // explain exactly as the schema always did.
  it.each([
    ["not an array", { set: "k" }, "the body must be a JSON array of commands"],
    ["an empty list", [], "at least one command is required"],
    ["an empty command", [[]], "a command needs at least its name (at [0])"],
    ["a command that is not an array", [["get", "k"], "get"], "(at [1])"],
    ["an object argument", [["set", "k", { a: 1 }]], "(at [0][2])"],
    ["a null argument", [["set", "k", null]], "(at [0][2])"],
    ["an infinite number", [["incrbyfloat", "k", Number.POSITIVE_INFINITY]], "(at [0][2])"],
    ["NaN", [["incrbyfloat", "k", Number.NaN]], "(at [0][2])"],
  ])("refuses %s in a pipeline with 400 and where it is", (_, body, message) => {
    expect(outcome(() => parseCommandList(body, limits))).toEqual({
      code: "bad_request",
      message: expect.stringContaining(message),
    });
  });

  it("refuses a bad single command as the schema explains it", () => {
    expect(outcome(() => parseSingleCommand([]))).toEqual({
      code: "bad_request",
      message: "a command needs at least its name",
    });
    expect(outcome(() => parseSingleCommand("get k"))).toEqual({
      code: "bad_request",
      message: "a command is a JSON array of strings, numbers or booleans",
    });
    expect(outcome(() => parseSingleCommand(["get", ["k"]]))).toEqual({
      code: "bad_request",
      message: expect.stringContaining("(at [1])"),
    });
    expect(outcome(() => parseSingleCommand(["", "k"]))).toEqual({
      code: "bad_request",
      message: "the command name is empty",
    });
  });

  it("refuses more commands than the limit with 413, valid or not past the limit", () => {
    const four = [["ping"], ["ping"], ["ping"], ["ping"]];
    expect(outcome(() => parseCommandList(four, limits))).toEqual({
      code: "payload_too_large",
      message: "too many commands: 4 (limit 3 per request)",
    });
  });
});
