/**
 * HMAC-SHA256 signatures for the bridge's mirror ingest (`POST /v1/mirror`).
 *
 * Wire format (both sides use this module):
 *   x-edgebus-timestamp: <unix seconds>
 *   x-edgebus-nonce: <16–128 of A-Z a-z 0-9 _ ->, fresh for every request (retries included)
 *   x-edgebus-signature: v2=<lowercase hex HMAC-SHA256(secret, `${timestamp}.${nonce}.${rawBody}`)>
 * A request is refused when a header is missing or malformed, the timestamp is more than
 * `toleranceSeconds` (default 300) away from the verifier's clock, or the signature matches none
 * of the verifier's secrets (several are accepted during a rotation). The verifier also refuses a
 * nonce it has seen within the tolerance window (a replay); that store lives with the verifier
 * (the bridge keeps nonces in Redis). `v1` (no nonce) is no longer accepted.
 *
 * The headers can be checked before the body is read (`checkMirrorHeaders`), so a request
 * without a plausible signature costs the verifier no body bytes.
 * Web Crypto only, so it runs in Workers and Node alike.
 */

import { hexOf } from "./hex.ts";

export const SIGNATURE_HEADER = "x-edgebus-signature";
export const TIMESTAMP_HEADER = "x-edgebus-timestamp";
export const NONCE_HEADER = "x-edgebus-nonce";
export const DEFAULT_TOLERANCE_SECONDS = 300;
const SCHEME = "v2";

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const SIGNATURE = /^v2=[0-9a-f]{64}$/;
const encoder = new TextEncoder();

async function hmacHex(secret: string, payload: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(payload)));
  return hexOf(mac);
}

/** 32 hex characters from 16 random bytes. */
export function newNonce(): string {
  return hexOf(crypto.getRandomValues(new Uint8Array(16)));
}

/** The three headers of a signed request; a fresh nonce unless one is given (tests). */
export async function signMirrorRequest(
  secret: string,
  body: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
  nonce: string = newNonce(),
): Promise<Record<string, string>> {
  const timestamp = String(nowSeconds);
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [NONCE_HEADER]: nonce,
    [SIGNATURE_HEADER]: `${SCHEME}=${await hmacHex(secret, `${timestamp}.${nonce}.${body}`)}`,
  };
}

export type SignatureCheck = { ok: true; timestamp: number; nonce: string } | { ok: false; reason: string };

interface HeaderSource {
  get(name: string): string | null;
}

interface CheckOptions {
  nowSeconds?: number;
  toleranceSeconds?: number;
}

/** Presence, format and timestamp of the signature headers: everything that needs no body. */
export function checkMirrorHeaders(headers: HeaderSource, options: CheckOptions = {}): SignatureCheck {
  const timestamp = headers.get(TIMESTAMP_HEADER);
  const nonce = headers.get(NONCE_HEADER);
  const signature = headers.get(SIGNATURE_HEADER);
  if (!timestamp || !signature || !nonce) {
    return { ok: false, reason: `missing ${TIMESTAMP_HEADER}, ${NONCE_HEADER} or ${SIGNATURE_HEADER}` };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "timestamp is not unix seconds" };
  if (!NONCE.test(nonce)) return { ok: false, reason: "nonce must be 16-128 of A-Z a-z 0-9 _ -" };
  if (!SIGNATURE.test(signature)) {
    return {
      ok: false,
      reason: signature.startsWith("v1=")
        ? "signature scheme v1 is no longer accepted (v2 signs a nonce too): update the kafka-mirror Worker"
        : "signature is not v2=<64 hex digits>",
    };
  }
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - Number(timestamp)) > tolerance) return { ok: false, reason: "timestamp outside tolerance" };
  return { ok: true, timestamp: Number(timestamp), nonce };
}

/** The headers, then the signature over `body` against every secret in `secrets`. */
export async function verifyMirrorRequest(
  secrets: string | readonly string[],
  body: string,
  headers: HeaderSource,
  options: CheckOptions = {},
): Promise<SignatureCheck> {
  const check = checkMirrorHeaders(headers, options);
  if (!check.ok) return check;
  const signature = headers.get(SIGNATURE_HEADER) as string;
  const timestamp = headers.get(TIMESTAMP_HEADER) as string;
  let matched = false;
  for (const secret of typeof secrets === "string" ? [secrets] : secrets) {
    const expected = `${SCHEME}=${await hmacHex(secret, `${timestamp}.${check.nonce}.${body}`)}`;
    matched = timingSafeEqual(expected, signature) || matched;
  }
  return matched ? check : { ok: false, reason: "signature mismatch" };
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
