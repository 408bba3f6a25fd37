import { describe, expect, it } from "vitest";
import { phone } from "../fields.ts";
import { toE164 } from "./e164.ts";

describe("toE164", () => {
  it.each([
    ["+1-555-0123", "+15550123"],
    ["+1-555-0199", "+15550199"],
    ["+15550199", "+15550199"],
    ["+353 87 123 4567", "+353871234567"],
    ["+353 (87) 123-4567", "+353871234567"],
    ["+44 20.7946.0958", "+442079460958"],
    ["  +33 1 23 45 67 89 ", "+33123456789"],
  ])("%s → %s, which the catalogue's phone accepts", (written, e164) => {
    expect(toE164(written)).toEqual({ ok: true, value: e164 });
    expect(phone.safeParse(e164).success).toBe(true);
  });

  it.each([
    ["555-0123", "no country code"],
    ["087 123 4567", "no country code"],
    ["00353 87 123 4567", "no country code"],
    ["+44 (0)20 7946 0958", "trunk prefix"],
    ["+1-555-0123 ext. 12", "letters or symbols"],
    ["+1-555-0123 x12", "letters or symbols"],
    ["+1-555-0123#", "letters or symbols"],
    ["+1+555-0123", "more than one +"],
    ["+1 (555 0123", "parentheses"],
    ["+1 () 5550123", "parentheses"],
    ["+123", "7 to 15 digits"],
    ["+1234567890123456", "7 to 15 digits"],
    ["+0 555 0123", "7 to 15 digits"],
    ["+-", "7 to 15 digits"],
  ])("refuses %s (%s)", (written, reason) => {
    const result = toE164(written);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain(reason);
      // The reason never repeats the number: error bodies carry no personal data.
      expect(result.reason).not.toContain(written.trim());
    }
  });
});
