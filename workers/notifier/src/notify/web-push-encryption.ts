/**
 * Web Push message encryption (RFC 8291) with the `aes128gcm` content coding (RFC 8188), on Web
 * Crypto only, so it runs in workerd as well as Node.
 *
 * The application server makes a fresh P-256 key pair and a random 16-byte salt per message:
 * - ecdh_secret = ECDH(as_private, ua_public)
 * - IKM = HKDF(salt = auth_secret, ikm = ecdh_secret, info = "WebPush: info" 0x00 ua_public as_public, 32)
 * - CEK = HKDF(salt, IKM, "Content-Encoding: aes128gcm" 0x00, 16)
 * - NONCE = HKDF(salt, IKM, "Content-Encoding: nonce" 0x00, 12)
 * - body = salt(16) ‖ rs(4, big-endian) ‖ idlen(1) = 65 ‖ as_public(65) ‖ AES-128-GCM(CEK, NONCE, plaintext ‖ 0x02)
 *
 * One record only (RFC 8291 §4: a push message is a single record), so the plaintext, its
 * delimiter and the 16-byte tag must fit in `rs` (4096): at most `MAX_PLAINTEXT_BYTES`. The
 * receiving side (`decryptPushMessage`) is here too: the local provider's push service and the
 * tests use it to read what a browser would read.
 */

export const RECORD_SIZE = 4096;
/** 4096 − 16 (tag) − 1 (delimiter) − 86 (header): RFC 8291 §4 allows 3993 octets of payload. */
export const MAX_PLAINTEXT_BYTES = 3993;

const encoder = new TextEncoder();

export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes base64url (padding optional; standard base64 `+/` is accepted too, as browsers vary). */
export function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_+/-]*={0,2}$/.test(text)) throw new Error("not base64url");
  const standard = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  const padded = standard + "=".repeat((4 - (standard.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const imported = await crypto.subtle.importKey("raw", new Uint8Array(key), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, new Uint8Array(data)));
}

/** HKDF-SHA-256 with one expand block (every output here is at most 32 octets). */
async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array> {
  const prk = await hmacSha256(salt, ikm);
  const okm = await hmacSha256(prk, concatBytes(info, new Uint8Array([1])));
  return okm.slice(0, length);
}

/** An uncompressed P-256 point (0x04 ‖ x ‖ y) as a Web Crypto ECDH public key. */
export async function importP256PublicKey(point: Uint8Array, usage: "ECDH" | "ECDSA"): Promise<CryptoKey> {
  if (point.length !== 65 || point[0] !== 4) throw new Error("not an uncompressed P-256 public key (65 octets)");
  const algorithm = usage === "ECDH" ? { name: "ECDH", namedCurve: "P-256" } : { name: "ECDSA", namedCurve: "P-256" };
  return crypto.subtle.importKey("raw", new Uint8Array(point), algorithm, true, usage === "ECDH" ? [] : ["verify"]);
}

/** A P-256 private key from its 32-octet scalar and public point (Web Crypto imports it as a JWK). */
export async function importP256PrivateKey(
  privateScalar: Uint8Array,
  publicPoint: Uint8Array,
  usage: "ECDH" | "ECDSA",
): Promise<CryptoKey> {
  if (privateScalar.length !== 32) throw new Error("a P-256 private key is 32 octets");
  if (publicPoint.length !== 65 || publicPoint[0] !== 4) throw new Error("not an uncompressed P-256 public key");
  const jwk: JsonWebKey = {
    kty: "EC",
    crv: "P-256",
    d: encodeBase64Url(privateScalar),
    x: encodeBase64Url(publicPoint.slice(1, 33)),
    y: encodeBase64Url(publicPoint.slice(33, 65)),
    ext: true,
  };
  const algorithm = usage === "ECDH" ? { name: "ECDH", namedCurve: "P-256" } : { name: "ECDSA", namedCurve: "P-256" };
  return crypto.subtle.importKey("jwk", jwk, algorithm, false, usage === "ECDH" ? ["deriveBits"] : ["sign"]);
}

async function ecdhSecret(privateKey: CryptoKey, publicKey: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256));
}

/** The intermediate values of RFC 8291 §3.4, exposed so tests can compare each with Appendix A. */
export interface PushKeySchedule {
  readonly ecdhSecret: Uint8Array;
  readonly ikm: Uint8Array;
  readonly cek: Uint8Array;
  readonly nonce: Uint8Array;
}

export async function deriveKeySchedule(
  secret: Uint8Array,
  authSecret: Uint8Array,
  uaPublic: Uint8Array,
  asPublic: Uint8Array,
  salt: Uint8Array,
): Promise<PushKeySchedule> {
  const keyInfo = concatBytes(encoder.encode("WebPush: info\0"), uaPublic, asPublic);
  const ikm = await hkdf(authSecret, secret, keyInfo, 32);
  const cek = await hkdf(salt, ikm, encoder.encode("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await hkdf(salt, ikm, encoder.encode("Content-Encoding: nonce\0"), 12);
  return { ecdhSecret: secret, ikm, cek, nonce };
}

/** What the subscription gave the application server (`PushSubscription.getKey()`). */
export interface PushSubscriptionKeys {
  /** The user agent's P-256 public key, 65 octets uncompressed. */
  readonly p256dh: Uint8Array;
  /** The 16-octet authentication secret. */
  readonly auth: Uint8Array;
}

export interface EncryptOptions {
  /** Fixed sender key pair and salt: only the RFC test vectors set them. */
  readonly senderKeys?: { readonly privateScalar: Uint8Array; readonly publicPoint: Uint8Array };
  readonly salt?: Uint8Array;
}

export async function encryptPushMessage(
  plaintext: Uint8Array,
  subscription: PushSubscriptionKeys,
  options: EncryptOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  if (plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new RangeError(`a push message carries at most ${MAX_PLAINTEXT_BYTES} octets (got ${plaintext.length})`);
  }
  if (subscription.auth.length !== 16) throw new Error("the auth secret is 16 octets");
  const uaKey = await importP256PublicKey(subscription.p256dh, "ECDH");
  let asPrivate: CryptoKey;
  let asPublic: Uint8Array;
  if (options.senderKeys) {
    asPrivate = await importP256PrivateKey(options.senderKeys.privateScalar, options.senderKeys.publicPoint, "ECDH");
    asPublic = options.senderKeys.publicPoint;
  } else {
    const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
      "deriveBits",
    ])) as CryptoKeyPair;
    asPrivate = pair.privateKey;
    asPublic = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  }
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(16));
  if (salt.length !== 16) throw new Error("the salt is 16 octets");
  const secret = await ecdhSecret(asPrivate, uaKey);
  const { cek, nonce } = await deriveKeySchedule(secret, subscription.auth, subscription.p256dh, asPublic, salt);
  const aesKey = await crypto.subtle.importKey("raw", new Uint8Array(cek), "AES-GCM", false, ["encrypt"]);
  // 0x02: the padding delimiter of the last (and only) record, no further padding.
  const record = concatBytes(plaintext, new Uint8Array([2]));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(nonce), tagLength: 128 }, aesKey, record),
  );
  const header = new Uint8Array(16 + 4 + 1 + 65);
  header.set(salt, 0);
  new DataView(header.buffer).setUint32(16, RECORD_SIZE);
  header[20] = 65;
  header.set(asPublic, 21);
  return concatBytes(header, sealed);
}

/** The receiving side: the user agent's key pair and auth secret. */
export interface PushReceiverKeys extends PushSubscriptionKeys {
  /** The user agent's private scalar, 32 octets. */
  readonly privateScalar: Uint8Array;
}

/** Decrypts an `aes128gcm` push message body; throws when it is malformed or does not authenticate. */
export async function decryptPushMessage(body: Uint8Array, receiver: PushReceiverKeys): Promise<Uint8Array> {
  if (body.length < 21) throw new Error("body shorter than the aes128gcm header");
  const salt = body.slice(0, 16);
  const rs = new DataView(body.buffer, body.byteOffset + 16, 4).getUint32(0);
  const idlen = body[20] as number;
  if (idlen !== 65) throw new Error(`keyid must be the sender's 65-octet public key (idlen ${idlen})`);
  const asPublic = body.slice(21, 21 + idlen);
  const ciphertext = body.slice(21 + idlen);
  if (ciphertext.length > rs) throw new Error("a push message is a single record, but the body is longer than rs");
  if (ciphertext.length < 17) throw new Error("record shorter than its tag");
  const uaPrivate = await importP256PrivateKey(receiver.privateScalar, receiver.p256dh, "ECDH");
  const secret = await ecdhSecret(uaPrivate, await importP256PublicKey(asPublic, "ECDH"));
  const { cek, nonce } = await deriveKeySchedule(secret, receiver.auth, receiver.p256dh, asPublic, salt);
  const aesKey = await crypto.subtle.importKey("raw", new Uint8Array(cek), "AES-GCM", false, ["decrypt"]);
  const record = new Uint8Array(
    await crypto.subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(nonce), tagLength: 128 }, aesKey, ciphertext),
  );
  // Strip padding: trailing zeros, then the delimiter, which must be 0x02 (last record).
  let end = record.length - 1;
  while (end >= 0 && record[end] === 0) end--;
  if (end < 0 || record[end] !== 2) throw new Error("missing the last-record padding delimiter (0x02)");
  return record.slice(0, end);
}
