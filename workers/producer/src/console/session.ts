/**
 * Console sessions that a stateless Worker can check on every request, and that sign-out really
 * ends:
 *
 * - The cookie holds `<claims>.<signature>`: base64url JSON claims (session id, API key id, a
 *   fingerprint of the key's hash, issued and expiry times) and base64url HMAC-SHA256 of them with
 *   `CONSOLE_SESSION_SECRET`. Any isolate verifies it with the secret alone; a forged or altered
 *   cookie fails the signature, an old one its expiry.
 * - Each request also looks the key up in `EDGEBUS_API_KEYS` again: a key removed, rotated (its
 *   hash changed) or stripped of the admin/metrics scope ends its sessions at once.
 * - Sign-out records the session id as revoked until the session would have expired
 *   (`revocations.ts`: Redis, shared by every isolate; isolate memory only in development).
 * - The CSRF token of a session is HMAC("csrf", session id): derived, so nothing is stored, and
 *   unguessable without the secret. Every state-changing console request must carry it.
 */

import { hexOf } from "#shared/hex.ts";

const encoder = new TextEncoder();

/** Absolute lifetime of a session (no sliding renewal): sign in again after it. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;

export interface SessionClaims {
  /** Random session id (128 bits, hex): what sign-out revokes. */
  readonly sid: string;
  /** API key id the operator signed in with. */
  readonly kid: string;
  /** First 16 hex digits of the key's stored hash: a rotated key no longer matches. */
  readonly kh: string;
  /** Issued at / expires at, seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key of `secret`, imported once per isolate. */
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (key === undefined) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

async function sign(secret: string, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(text)));
}

/** A new session for key `kid` (whose stored hash is `keyHash`), issued at `now` (ms). */
export function newSession(kid: string, keyHash: string, now = Date.now()): SessionClaims {
  const sid = hexOf(crypto.getRandomValues(new Uint8Array(16)));
  const iat = Math.floor(now / 1000);
  return { sid, kid, kh: keyHash.slice(0, 16), iat, exp: iat + SESSION_TTL_SECONDS };
}

/** The cookie value of `claims`. */
export async function encodeSession(claims: SessionClaims, secret: string): Promise<string> {
  const body = base64url(encoder.encode(JSON.stringify(claims)));
  return `${body}.${base64url(await sign(secret, `session.${body}`))}`;
}

function isClaims(value: unknown): value is SessionClaims {
  const v = value as Record<string, unknown> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.sid === "string" &&
    /^[0-9a-f]{32}$/.test(v.sid) &&
    typeof v.kid === "string" &&
    typeof v.kh === "string" &&
    typeof v.iat === "number" &&
    typeof v.exp === "number"
  );
}

/**
 * The claims of a cookie value whose signature holds and which has not expired at `now` (ms);
 * undefined otherwise. The signature is checked with `crypto.subtle.verify` (constant time)
 * before the claims are parsed.
 */
export async function decodeSession(
  value: string | undefined,
  secret: string,
  now = Date.now(),
): Promise<SessionClaims | undefined> {
  if (value === undefined || value.length > 1024) return undefined;
  const [body, signature, ...rest] = value.split(".");
  if (body === undefined || signature === undefined || rest.length > 0) return undefined;
  const mac = fromBase64url(signature);
  if (mac === undefined) return undefined;
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    mac as Uint8Array<ArrayBuffer>,
    encoder.encode(`session.${body}`),
  );
  if (!valid) return undefined;
  const bytes = fromBase64url(body);
  if (bytes === undefined) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (!isClaims(claims) || claims.exp * 1000 <= now) return undefined;
  return claims;
}

/** The CSRF token of session `sid`. */
export async function csrfTokenOf(sid: string, secret: string): Promise<string> {
  return base64url(await sign(secret, `csrf.${sid}`));
}

/** Whether `token` is the CSRF token of `sid` (compared as HMACs, so in constant time). */
export async function csrfTokenMatches(token: string | undefined, sid: string, secret: string): Promise<boolean> {
  if (token === undefined || token.length > 200) return false;
  const given = fromBase64url(token);
  if (given === undefined) return false;
  return crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    given as Uint8Array<ArrayBuffer>,
    encoder.encode(`csrf.${sid}`),
  );
}
