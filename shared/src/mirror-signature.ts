/**
 * HMAC-SHA256 signatures for the bridge's mirror ingest (`POST /v1/mirror`).
 *
 * Wire format (both sides use this module):
 *   x-edgebus-timestamp: <unix seconds>
 *   x-edgebus-signature: v1=<lowercase hex HMAC-SHA256(secret, `${timestamp}.${rawBody}`)>
 * A request is refused when the signature does not match or the timestamp is more than
 * `toleranceSeconds` (default 300) away from the verifier's clock.
 * Web Crypto only, so it runs in Workers and Node alike.
 */

export const SIGNATURE_HEADER = "x-edgebus-signature";
export const TIMESTAMP_HEADER = "x-edgebus-timestamp";
export const DEFAULT_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

async function hmacHex(secret: string, payload: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(payload)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function signMirrorRequest(
  secret: string,
  body: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const timestamp = String(nowSeconds);
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: `v1=${await hmacHex(secret, `${timestamp}.${body}`)}`,
  };
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export async function verifyMirrorRequest(
  secret: string,
  body: string,
  headers: { get(name: string): string | null },
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): Promise<SignatureCheck> {
  const timestamp = headers.get(TIMESTAMP_HEADER);
  const signature = headers.get(SIGNATURE_HEADER);
  if (!timestamp || !signature) return { ok: false, reason: `missing ${TIMESTAMP_HEADER} or ${SIGNATURE_HEADER}` };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "timestamp is not unix seconds" };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - Number(timestamp)) > tolerance) return { ok: false, reason: "timestamp outside tolerance" };
  const expected = `v1=${await hmacHex(secret, `${timestamp}.${body}`)}`;
  if (!timingSafeEqual(expected, signature)) return { ok: false, reason: "signature mismatch" };
  return { ok: true };
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
