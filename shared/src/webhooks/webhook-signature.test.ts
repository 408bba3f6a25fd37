import { describe, expect, it } from "vitest";
import { webhookSignature } from "./webhook-signature.ts";

describe("webhookSignature", () => {
  it("reproduces the Standard Webhooks specification's vector", () => {
    const key = Uint8Array.from(atob("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), (char) => char.charCodeAt(0));
    expect(webhookSignature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')).toBe(
      "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    );
  });

  it("signs the body's UTF-8 bytes: a non-ASCII body changes the signature, the same body does not", () => {
    const key = new Uint8Array(32).fill(7);
    const once = webhookSignature(key, "msg_1", "1700000000", '{"name":"Séan"}');
    expect(webhookSignature(key, "msg_1", 1700000000, '{"name":"Séan"}')).toBe(once);
    expect(webhookSignature(key, "msg_1", 1700000000, '{"name":"Sean"}')).not.toBe(once);
  });
});
