/**
 * `plainlyValidAttributes` (the common case of the CloudEvents attribute check, written out) may
 * be stricter than `coreAttributesSchema` but never looser: whatever it accepts, zod accepts.
 * It must also accept the usual events, or it would save nothing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { coreAttributesSchema, plainlyValidAttributes } from "./http-binding.ts";

const valid = {
  specversion: "1.0",
  id: "e-1",
  source: "/services/identity",
  type: "gov.auth.citizen.created",
  time: "2026-03-14T09:21:07.000Z",
  datacontenttype: "application/json",
  dataschema: "https://schemas.example/citizen.json",
  subject: "104233",
  eventversion: 3,
  correlationid: "c-1",
  publisherkey: "bench",
  flagged: true,
  data: { id: 1 },
};

const names = fc.oneof(
  fc.constantFrom(
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "datacontenttype",
    "dataschema",
    "subject",
    "data",
    "data_base64",
    "schemaurl",
    "eventversion",
    "traceparent",
    "Bad-Name",
    "x_y",
    "",
  ),
  fc.string({ maxLength: 6 }),
);
const values = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    "",
    "1.0",
    "0.3",
    "/a b",
    "/ok%zz",
    "/ok%41",
    "https://x.example/s",
    "relative/path",
    "application/cloudevents+json",
    "text/plain",
    "2026-03-14T09:21:07Z",
    "2026-03-14T09:21:07",
    "2026-03-14T09:21:07+01:00",
    1.5,
    2 ** 53,
    -3,
    Number.NaN,
    true,
    "x".repeat(257),
    "/".repeat(1025),
  ),
  fc.jsonValue({ maxDepth: 1 }),
  fc.string({ maxLength: 12 }),
);

describe("plainlyValidAttributes", () => {
  it("accepts the usual structured events", () => {
    expect(plainlyValidAttributes(valid)).toBe(true);
    expect(plainlyValidAttributes({ specversion: "1.0", id: "1", source: "/s", type: "t" })).toBe(true);
  });

  it("never accepts attributes zod refuses", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(names, values), { maxLength: 4 }), fc.boolean(), (changes, fromValid) => {
        const attributes: Record<string, unknown> = fromValid ? { ...valid } : {};
        for (const [name, value] of changes) attributes[name] = value;
        if (plainlyValidAttributes(attributes)) {
          expect(coreAttributesSchema.safeParse(attributes).success, JSON.stringify(attributes)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees with zod on each single attribute change of a valid event", () => {
    fc.assert(
      fc.property(names, values, (name, value) => {
        const attributes: Record<string, unknown> = { ...valid, [name]: value };
        const zod = coreAttributesSchema.safeParse(attributes).success;
        if (plainlyValidAttributes(attributes)) expect(zod).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
