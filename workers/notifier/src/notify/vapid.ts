/**
 * VAPID (RFC 8292): the application server proves to a push service who it is with a JWT signed
 * ES256 by its key pair, sent as `Authorization: vapid t=<jwt>, k=<public key>`.
 *
 * - header `{"typ":"JWT","alg":"ES256"}`; claims `aud` (the origin of the push endpoint), `exp`
 *   (at most 24 hours ahead, RFC 8292 §2) and `sub` (a `mailto:` or `https:` contact);
 * - the signature is the JWS ES256 form: r ‖ s, 64 octets — what Web Crypto's ECDSA produces;
 * - `k` is the uncompressed P-256 public key (65 octets) in base64url, the same key the browser
 *   was given as `applicationServerKey` when it subscribed.
 *
 * `verifyVapid` is the push service's side; the local provider uses it.
 */
import {
  concatBytes,
  decodeBase64Url,
  encodeBase64Url,
  importP256PrivateKey,
  importP256PublicKey,
} from "./web-push-encryption.ts";

/** RFC 8292 §2: `exp` MUST NOT be more than 24 hours from the time of the request. */
export const MAX_VAPID_EXPIRY_SECONDS = 24 * 60 * 60;
/** How far ahead this server sets `exp`: 12 hours leaves room for clock skew. */
export const VAPID_EXPIRY_SECONDS = 12 * 60 * 60;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface VapidKeys {
  /** base64url of the 65-octet uncompressed public key. */
  readonly publicKey: string;
  /** base64url of the 32-octet private scalar. */
  readonly privateKey: string;
  /** `mailto:` or `https:` contact for the push service's operators. */
  readonly subject: string;
}

export async function vapidAuthorization(
  endpoint: string,
  keys: VapidKeys,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  const publicPoint = decodeBase64Url(keys.publicKey);
  const signingKey = await importP256PrivateKey(decodeBase64Url(keys.privateKey), publicPoint, "ECDSA");
  const header = encodeBase64Url(encoder.encode(JSON.stringify({ typ: "JWT", alg: "ES256" })));
  const claims = encodeBase64Url(
    encoder.encode(
      JSON.stringify({ aud: new URL(endpoint).origin, exp: nowSeconds + VAPID_EXPIRY_SECONDS, sub: keys.subject }),
    ),
  );
  const signingInput = `${header}.${claims}`;
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, signingKey, encoder.encode(signingInput)),
  );
  return `vapid t=${signingInput}.${encodeBase64Url(signature)}, k=${encodeBase64Url(publicPoint)}`;
}

export type VapidVerification =
  | { readonly ok: true; readonly publicKey: string; readonly claims: { aud: string; exp: number; sub?: string } }
  | { readonly ok: false; readonly reason: string };

/** A push service's check of a VAPID `Authorization` header against its own origin. */
export async function verifyVapid(
  authorization: string | undefined,
  audience: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<VapidVerification> {
  const match = /^vapid\s+(.+)$/i.exec(authorization?.trim() ?? "");
  if (!match) return { ok: false, reason: "Authorization is not the vapid scheme" };
  const params = new Map<string, string>();
  for (const part of (match[1] as string).split(",")) {
    const index = part.indexOf("=");
    if (index > 0) params.set(part.slice(0, index).trim().toLowerCase(), part.slice(index + 1).trim());
  }
  const token = params.get("t");
  const key = params.get("k");
  if (!token || !key) return { ok: false, reason: "vapid needs t= and k=" };
  const [header, claims, signature, ...rest] = token.split(".");
  if (!header || !claims || !signature || rest.length > 0) return { ok: false, reason: "t is not a JWS compact token" };
  let parsedHeader: { typ?: unknown; alg?: unknown };
  let parsedClaims: { aud?: unknown; exp?: unknown; sub?: unknown };
  let signatureBytes: Uint8Array;
  let publicKey: CryptoKey;
  try {
    parsedHeader = JSON.parse(decoder.decode(decodeBase64Url(header)));
    parsedClaims = JSON.parse(decoder.decode(decodeBase64Url(claims)));
    signatureBytes = decodeBase64Url(signature);
    publicKey = await importP256PublicKey(decodeBase64Url(key), "ECDSA");
  } catch (error) {
    return { ok: false, reason: `unreadable token or key: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (parsedHeader.alg !== "ES256") return { ok: false, reason: "alg must be ES256" };
  if (signatureBytes.length !== 64) return { ok: false, reason: "an ES256 signature is 64 octets (r ‖ s)" };
  const valid = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    publicKey,
    new Uint8Array(signatureBytes),
    concatBytes(encoder.encode(`${header}.${claims}`)),
  );
  if (!valid) return { ok: false, reason: "signature does not verify with k" };
  if (parsedClaims.aud !== audience) return { ok: false, reason: `aud must be ${audience}` };
  if (typeof parsedClaims.exp !== "number") return { ok: false, reason: "exp missing" };
  if (parsedClaims.exp <= nowSeconds) return { ok: false, reason: "token expired" };
  if (parsedClaims.exp > nowSeconds + MAX_VAPID_EXPIRY_SECONDS)
    return { ok: false, reason: "exp more than 24 h ahead" };
  if (
    parsedClaims.sub !== undefined &&
    (typeof parsedClaims.sub !== "string" || !/^(mailto|https):/.test(parsedClaims.sub))
  ) {
    return { ok: false, reason: "sub must be a mailto: or https: URI" };
  }
  return {
    ok: true,
    publicKey: key,
    claims: {
      aud: parsedClaims.aud,
      exp: parsedClaims.exp,
      ...(typeof parsedClaims.sub === "string" ? { sub: parsedClaims.sub } : {}),
    },
  };
}

/** A fresh VAPID key pair (base64url), e.g. for `wrangler secret put VAPID_PRIVATE_KEY`. */
export async function generateVapidKeys(): Promise<{ publicKey: string; privateKey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const publicPoint = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { publicKey: encodeBase64Url(publicPoint), privateKey: jwk.d as string };
}
