import { describe, expect, it } from "vitest";
import { hexOf } from "./hex.ts";

describe("hexOf", () => {
  it("writes two lowercase characters per byte, leading zeros kept", () => {
    expect(hexOf(new Uint8Array([0, 1, 15, 16, 171, 255]))).toBe("00010f10abff");
  });

  it("is empty for no bytes", () => {
    expect(hexOf(new Uint8Array())).toBe("");
  });
});
