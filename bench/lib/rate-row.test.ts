import { describe, expect, it } from "vitest";
import { rateRow } from "./result-file.ts";

describe("rateRow", () => {
  it("writes both rates as en-US numbers and the rounded ratio, as the committed tables show", () => {
    expect(
      rateRow("gateway vs direct (msg/s)", 25_002, { value: 42_489, label: "direct" }, { headline: true }),
    ).toEqual({
      figure: "gateway vs direct (msg/s)",
      ours: "25,002",
      baseline: "42,489 (direct)",
      ratio: "0.59×",
      headline: true,
    });
  });

  it("rounds to the digits asked for and leaves headline out unless set", () => {
    expect(rateRow("drain vs naive", 12_465, { value: 28, label: "naive" }, { digits: 1 })).toEqual({
      figure: "drain vs naive",
      ours: "12,465",
      baseline: "28 (naive)",
      ratio: "445.2×",
    });
  });
});
