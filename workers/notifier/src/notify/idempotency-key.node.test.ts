import { describe, expect, it } from "vitest";
import { idempotencyKeyOf } from "./idempotency-key.ts";

/** The key as the notifier first computed it (Web Crypto SHA-256): providers and ledgers hold these. */
async function webCryptoKey(parts: { source: string; id: string; channel: string; recipient: string }) {
  const input = [parts.source, parts.id, parts.channel, parts.recipient.toLowerCase()].join("\u0000");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input)));
  return `ntf_${Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

describe("idempotencyKeyOf", () => {
  it("is the same key as before for the same send (so redeliveries and the ledger's rows still match)", async () => {
    const parts = { source: "/permits/é", id: "evt-1", channel: "email", recipient: "Amina@Haddad.ie" };
    expect(idempotencyKeyOf(parts)).toBe(await webCryptoKey(parts));
    expect(idempotencyKeyOf(parts)).toBe("ntf_97499db027a5d44ec205878b1929a60332b438ff4983320e8d06b50d90ef6896");
    for (const recipient of ["+353871234567", "", "https://push.example/ü"]) {
      const other = { ...parts, channel: "sms", recipient };
      expect(idempotencyKeyOf(other)).toBe(await webCryptoKey(other));
    }
  });

  it("differs per channel and recipient, not per recipient case", () => {
    const parts = { source: "/s", id: "1", channel: "email", recipient: "a@example.org" };
    expect(idempotencyKeyOf({ ...parts, recipient: "A@Example.org" })).toBe(idempotencyKeyOf(parts));
    expect(idempotencyKeyOf({ ...parts, channel: "sms" })).not.toBe(idempotencyKeyOf(parts));
    expect(idempotencyKeyOf({ ...parts, recipient: "b@example.org" })).not.toBe(idempotencyKeyOf(parts));
  });
});
