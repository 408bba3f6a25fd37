import { describe, expect, it } from "vitest";
import { webhookSignature } from "./webhook-signature.ts";

describe("webhookSignature", () => {
  it("reproduces the Standard Webhooks specification's vector", () => {
    const key = Uint8Array.from(atob("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), (char) => char.charCodeAt(0));
    expect(webhookSignature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')).toBe(
      "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    );
  });

  it("agrees with Web Crypto's HMAC over the UTF-8 bytes, for a non-ASCII body and either form of timestamp", async () => {
    const key = new Uint8Array(32).fill(7);
    const body = '{"name":"Séan Ó Briain","note":"✓ 東京"}';
    const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", imported, new TextEncoder().encode(`msg_1.1700000000.${body}`)),
    );
    const expected = btoa(String.fromCharCode(...mac));
    expect(webhookSignature(key, "msg_1", 1700000000, body)).toBe(expected);
    expect(webhookSignature(key, "msg_1", "1700000000", body)).toBe(expected);
  });
});
