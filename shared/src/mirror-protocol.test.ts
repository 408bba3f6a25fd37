import { describe, expect, it } from "vitest";
import { compileFastParse } from "./catalogue/fast-parse.ts";
import { mirrorResponseSchema, readMirrorResponse } from "./mirror-protocol.ts";

const acked = { id: "e-1", source: "/gov/identity", status: "acked", topic: "gov.auth", partition: 2, offset: "41" };
const failed = {
  id: "e-2",
  source: "/gov/identity",
  status: "failed",
  error: { code: "kafka_unavailable", message: "broker down", retryable: true },
};

/** Answers the bridge could send, and answers a broken or hostile one could. */
const ANSWERS: readonly unknown[] = [
  { results: [] },
  { results: [acked, failed] },
  { results: [{ ...acked, offset: 41 }] },
  { results: [{ id: "e-3", source: "s", status: "acked" }] },
  { results: [acked], extra: "ignored" },
  { results: [{ ...acked, unknown: { nested: true } }] },
  { results: Array.from({ length: 100 }, (_, i) => ({ ...acked, id: `e-${i}`, partition: i % 6 })) },
  undefined,
  null,
  "results",
  [],
  {},
  { results: null },
  { results: {} },
  { results: [null] },
  { results: [{ ...acked, status: "ok" }] },
  { results: [{ ...acked, partition: 1.5 }] },
  { results: [{ ...acked, partition: "2" }] },
  { results: [{ ...acked, offset: true }] },
  { results: [{ ...acked, id: 7 }] },
  { results: [{ source: "s", status: "acked" }] },
  { results: [{ ...failed, error: { code: "x", message: "y" } }] },
  { results: [{ ...failed, error: { code: "x", message: "y", retryable: "yes" } }] },
  { results: [{ ...acked, topic: undefined }] },
  { results: [acked, { ...acked, status: "acked", partition: Number.NaN }] },
  Object.assign(Object.create({ results: [acked] }), {}),
];

describe("readMirrorResponse", () => {
  it("is compiled to plain checks (no zod interpreter per result)", () => {
    expect(compileFastParse(mirrorResponseSchema)).toBeTypeOf("function");
  });

  it.each(ANSWERS.map((answer, index) => [index, answer]))(
    "answer %i: accepts and returns exactly what the schema does",
    (_index, answer) => {
      const parsed = mirrorResponseSchema.safeParse(answer);
      const read = readMirrorResponse(answer);
      if (parsed.success) expect(read).toStrictEqual(parsed.data);
      else expect(read).toBeUndefined();
    },
  );

  it("returns a copy without unknown keys, results in order", () => {
    const read = readMirrorResponse({ results: [{ ...acked, unknown: 1 }, failed], extra: true });
    expect(read).toStrictEqual({ results: [acked, failed] });
  });
});
