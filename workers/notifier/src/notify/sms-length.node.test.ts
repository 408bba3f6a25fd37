import { describe, expect, it } from "vitest";
import { fitSms, smsLength } from "./sms-length.ts";

describe("smsLength", () => {
  it("counts GSM-7 septets, with extension characters costing two", () => {
    expect(smsLength("a".repeat(160))).toEqual({ encoding: "gsm7", units: 160, segments: 1 });
    expect(smsLength("a".repeat(161))).toEqual({ encoding: "gsm7", units: 161, segments: 2 });
    expect(smsLength("€".repeat(80))).toEqual({ encoding: "gsm7", units: 160, segments: 1 });
    expect(smsLength("a".repeat(306)).segments).toBe(2);
    expect(smsLength("a".repeat(307)).segments).toBe(3);
    expect(smsLength("Frais à régler : 250,00 €").encoding).toBe("gsm7");
  });

  it("switches the whole message to UCS-2 for one character outside GSM-7", () => {
    expect(smsLength(`${"a".repeat(69)}ê`)).toEqual({ encoding: "ucs2", units: 70, segments: 1 });
    expect(smsLength(`${"a".repeat(70)}ê`).segments).toBe(2);
    expect(smsLength("Ciarán").encoding).toBe("ucs2");
  });
});

describe("fitSms", () => {
  it("leaves a message that fits alone", () => {
    expect(fitSms("Your application PA-2026-000871 is approved.", 1)).toBe(
      "Your application PA-2026-000871 is approved.",
    );
  });

  it("cuts at a word boundary with a GSM-7 ellipsis so the encoding does not change", () => {
    const long = "word ".repeat(100).trim();
    const fitted = fitSms(long, 1);
    expect(fitted.endsWith("word...")).toBe(true);
    expect(smsLength(fitted)).toMatchObject({ encoding: "gsm7", segments: 1 });
    expect(smsLength(fitSms(long, 2)).segments).toBe(2);
  });

  it("respects UCS-2 limits too", () => {
    const fitted = fitSms("ê ".repeat(200), 1);
    expect(smsLength(fitted)).toMatchObject({ encoding: "ucs2", segments: 1 });
  });
});
