import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeWebhookSecret, signWebhook, verifyWebhook } from "./standard-webhooks.ts";

// The test vector published with the Standard Webhooks reference libraries.
const SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

describe("Standard Webhooks signatures", () => {
  it("matches the specification's test vector", () => {
    const headers = signWebhook(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY);
    expect(headers).toEqual({
      "webhook-id": SPEC_ID,
      "webhook-timestamp": String(SPEC_TIMESTAMP),
      "webhook-signature": SPEC_SIGNATURE,
    });
  });

  it("agrees with an independent HMAC computed by node:crypto", () => {
    const secret = `whsec_${Buffer.from("a".repeat(32)).toString("base64")}`;
    const headers = signWebhook(secret, "msg_1", 1_700_000_000, "{}");
    const expected = createHmac("sha256", Buffer.from("a".repeat(32)))
      .update("msg_1.1700000000.{}")
      .digest("base64");
    expect(headers["webhook-signature"]).toBe(`v1,${expected}`);
  });

  it("verifies a good delivery and refuses tampering, staleness and missing headers", () => {
    const now = SPEC_TIMESTAMP + 10;
    const good = {
      "webhook-id": SPEC_ID,
      "webhook-timestamp": String(SPEC_TIMESTAMP),
      "webhook-signature": SPEC_SIGNATURE,
    };
    expect(verifyWebhook(SPEC_SECRET, good, SPEC_BODY, { nowSeconds: now })).toEqual({ ok: true });
    // One of several space-separated signatures is enough (secret rotation).
    const rotated = { ...good, "webhook-signature": `v1,bm90IGl0 ${SPEC_SIGNATURE}` };
    expect(verifyWebhook(SPEC_SECRET, rotated, SPEC_BODY, { nowSeconds: now })).toEqual({ ok: true });
    expect(verifyWebhook(SPEC_SECRET, good, '{"test": 2432232315}', { nowSeconds: now })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(
      verifyWebhook(SPEC_SECRET, { ...good, "webhook-id": "msg_other" }, SPEC_BODY, { nowSeconds: now }),
    ).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(verifyWebhook(SPEC_SECRET, good, SPEC_BODY, { nowSeconds: SPEC_TIMESTAMP + 301 })).toEqual({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
    expect(verifyWebhook(SPEC_SECRET, { ...good, "webhook-signature": undefined }, SPEC_BODY)).toEqual({
      ok: false,
      reason: "missing_headers",
    });
  });

  it("refuses secrets that are not base64 key material of a sane size", () => {
    expect(() => decodeWebhookSecret("whsec_***")).toThrow(/base64/);
    expect(() => decodeWebhookSecret(`whsec_${btoa("short")}`)).toThrow(/24–64 bytes/);
  });
});
