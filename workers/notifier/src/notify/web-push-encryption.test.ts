// Runs in workerd (the notifier's vitest project): the same Web Crypto the deployed Worker has.
import { describe, expect, it } from "vitest";
import { MAX_VAPID_EXPIRY_SECONDS, VAPID_EXPIRY_SECONDS, vapidAuthorization, verifyVapid } from "./vapid.ts";
import {
  decodeBase64Url,
  decryptPushMessage,
  deriveKeySchedule,
  encodeBase64Url,
  encryptPushMessage,
  importP256PrivateKey,
  importP256PublicKey,
  MAX_PLAINTEXT_BYTES,
} from "./web-push-encryption.ts";

/** RFC 8291 §5 and Appendix A: the published example, every input fixed, every step given. */
const RFC8291 = {
  plaintext: "When I grow up, I want to be a watermelon",
  authSecret: "BTBZMqHH6r4Tts7J_aSIgg",
  uaPublic: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
  uaPrivate: "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
  asPublic: "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
  asPrivate: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
  salt: "DGv6ra1nlYgDCS1FRnbzlw",
  ecdhSecret: "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs",
  ikm: "S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg",
  cek: "oIhVW04MRdy2XN9CiKLxTg",
  nonce: "4h_95klXJ5E_qnoN",
  header:
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
  ciphertext: "8pfeW0KbunFT06SuDKoJH9Ql87S1QUrdirN6GcG7sFz1y1sqLgVi1VhjVkHsUoEsbI_0LpXMuGvnzQ",
  body: "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
};

const b = decodeBase64Url;
const text = new TextEncoder();

async function newReceiver() {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
    "deriveBits",
  ])) as CryptoKeyPair;
  const p256dh = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { p256dh, auth: crypto.getRandomValues(new Uint8Array(16)), privateScalar: b(jwk.d as string) };
}

describe("RFC 8291 message encryption", () => {
  it("derives Appendix A's ECDH secret, IKM, CEK and nonce", async () => {
    const asPrivate = await importP256PrivateKey(b(RFC8291.asPrivate), b(RFC8291.asPublic), "ECDH");
    const uaPublic = await importP256PublicKey(b(RFC8291.uaPublic), "ECDH");
    const secret = new Uint8Array(await crypto.subtle.deriveBits({ name: "ECDH", public: uaPublic }, asPrivate, 256));
    expect(encodeBase64Url(secret)).toBe(RFC8291.ecdhSecret);
    const schedule = await deriveKeySchedule(
      secret,
      b(RFC8291.authSecret),
      b(RFC8291.uaPublic),
      b(RFC8291.asPublic),
      b(RFC8291.salt),
    );
    expect(encodeBase64Url(schedule.ikm)).toBe(RFC8291.ikm);
    expect(encodeBase64Url(schedule.cek)).toBe(RFC8291.cek);
    expect(encodeBase64Url(schedule.nonce)).toBe(RFC8291.nonce);
  });

  it("produces §5's message byte for byte (header, then ciphertext) with its sender keys and salt", async () => {
    const body = await encryptPushMessage(
      text.encode(RFC8291.plaintext),
      { p256dh: b(RFC8291.uaPublic), auth: b(RFC8291.authSecret) },
      { senderKeys: { privateScalar: b(RFC8291.asPrivate), publicPoint: b(RFC8291.asPublic) }, salt: b(RFC8291.salt) },
    );
    expect(encodeBase64Url(body.slice(0, 86))).toBe(RFC8291.header);
    expect(encodeBase64Url(body.slice(86))).toBe(RFC8291.ciphertext);
    expect(encodeBase64Url(body)).toBe(RFC8291.body);
  });

  it("decrypts §5's message with the user agent's private key", async () => {
    const plaintext = await decryptPushMessage(b(RFC8291.body), {
      p256dh: b(RFC8291.uaPublic),
      auth: b(RFC8291.authSecret),
      privateScalar: b(RFC8291.uaPrivate),
    });
    expect(new TextDecoder().decode(plaintext)).toBe(RFC8291.plaintext);
  });

  it("round-trips with fresh keys and salt, and a tampered body or wrong auth secret does not decrypt", async () => {
    const receiver = await newReceiver();
    const message = text.encode(JSON.stringify({ title: "Payment failed", body: "€84.50 was declined" }));
    const one = await encryptPushMessage(message, receiver);
    const two = await encryptPushMessage(message, receiver);
    expect(encodeBase64Url(one)).not.toBe(encodeBase64Url(two)); // fresh salt and sender key each time
    expect(new TextDecoder().decode(await decryptPushMessage(one, receiver))).toContain("€84.50");
    const tampered = one.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    await expect(decryptPushMessage(tampered, receiver)).rejects.toThrow();
    await expect(decryptPushMessage(one, { ...receiver, auth: new Uint8Array(16) })).rejects.toThrow();
  });

  it("carries at most 3993 octets, a 4096-octet body (RFC 8291 §4), and refuses more", async () => {
    const receiver = await newReceiver();
    const largest = await encryptPushMessage(new Uint8Array(MAX_PLAINTEXT_BYTES), receiver);
    expect(largest.length).toBe(4096); // 86-octet header + 3993 + delimiter + 16-octet tag
    await expect(encryptPushMessage(new Uint8Array(MAX_PLAINTEXT_BYTES + 1), receiver)).rejects.toThrow(RangeError);
  });
});

describe("RFC 8292 VAPID", () => {
  it("sends an ES256 JWT for the endpoint's origin with exp under 24 h, and k = the public key", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const publicKey = encodeBase64Url(
      new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer),
    );
    const privateKey = ((await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey).d as string;
    const now = 1_780_000_000;
    const header = await vapidAuthorization(
      "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
      { publicKey, privateKey, subject: "mailto:push@council.example.gov" },
      now,
    );
    const match = /^vapid t=([^.]+)\.([^.]+)\.([^.,]+), k=(.+)$/.exec(header);
    expect(match).not.toBeNull();
    const [, h, c, s, k] = match as RegExpExecArray;
    expect(JSON.parse(new TextDecoder().decode(b(h as string)))).toEqual({ typ: "JWT", alg: "ES256" });
    expect(JSON.parse(new TextDecoder().decode(b(c as string)))).toEqual({
      aud: "https://push.example.net",
      exp: now + VAPID_EXPIRY_SECONDS,
      sub: "mailto:push@council.example.gov",
    });
    expect(VAPID_EXPIRY_SECONDS).toBeLessThanOrEqual(MAX_VAPID_EXPIRY_SECONDS);
    expect(b(s as string).length).toBe(64);
    expect(k).toBe(publicKey);
    // The signature verifies with the public key alone, as a push service checks it.
    const verified = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      pair.publicKey,
      b(s as string),
      text.encode(`${h}.${c}`),
    );
    expect(verified).toBe(true);
    expect(await verifyVapid(header, "https://push.example.net", now)).toMatchObject({ ok: true, publicKey });
    expect(await verifyVapid(header, "https://other.example.net", now)).toMatchObject({ ok: false });
    expect(await verifyVapid(header, "https://push.example.net", now + VAPID_EXPIRY_SECONDS)).toMatchObject({
      ok: false,
      reason: "token expired",
    });
    // Another key in k: the signature no longer verifies.
    const forged = header.replace(/k=.+$/, `k=${encodeBase64Url((await newReceiver()).p256dh)}`);
    expect(await verifyVapid(forged, "https://push.example.net", now)).toMatchObject({ ok: false });
  });
});
