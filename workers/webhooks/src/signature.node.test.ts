import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signatureHeader, signOne } from "./signature.ts";

describe("Standard Webhooks signatures", () => {
  it("reproduces the specification's reference vector", () => {
    const signature = signOne(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("signs with every valid secret, newest first, each verifiable on its own", () => {
    const secrets = [
      `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
      `whsec_${Buffer.alloc(32, 2).toString("base64")}`,
    ];
    const header = signatureHeader(secrets, "msg_1", 1700000000, '{"a":1}');
    const parts = header.split(" ");
    expect(parts).toHaveLength(2);
    secrets.forEach((secret, index) => {
      const key = Buffer.from(secret.slice("whsec_".length), "base64");
      const expected = createHmac("sha256", key).update('msg_1.1700000000.{"a":1}').digest("base64");
      expect(parts[index]).toBe(`v1,${expected}`);
    });
  });
});
