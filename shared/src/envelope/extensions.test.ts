/** `plainExtensions` gives zod's answer or none: never data zod would refuse or shape differently. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { extensionsSchema, plainExtensions } from "./extensions.ts";

const value = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    "",
    "c-1",
    "x".repeat(256),
    "x".repeat(257),
    1,
    0,
    -1,
    1.5,
    2 ** 53,
    "7",
    "07",
    true,
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",
  ),
  fc.jsonValue({ maxDepth: 1 }),
);
const names = ["eventversion", "correlationid", "causationid", "partitionkey", "traceparent"];

describe("plainExtensions", () => {
  it("takes the usual extensions without zod", () => {
    const given = {
      eventversion: 3,
      correlationid: "c-1",
      causationid: undefined,
      partitionkey: "p",
      traceparent: undefined,
    };
    expect(plainExtensions(given)).toStrictEqual(extensionsSchema.parse(given));
  });

  it("answers like zod whenever it answers", () => {
    fc.assert(
      fc.property(fc.tuple(...names.map(() => value)), fc.subarray(names), (values, present) => {
        const input: Record<string, unknown> = {};
        names.forEach((name, i) => {
          if (present.includes(name)) input[name] = values[i];
        });
        const plain = plainExtensions(input);
        if (plain === undefined) return;
        const zod = extensionsSchema.safeParse(input);
        expect(zod.success, JSON.stringify(input)).toBe(true);
        expect(plain).toStrictEqual(zod.data);
        expect(Object.keys(plain)).toStrictEqual(Object.keys(zod.data ?? {}));
      }),
      { numRuns: 3000 },
    );
  });
});
