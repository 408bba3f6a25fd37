/**
 * Signing and verification per the Standard Webhooks spec (standardwebhooks.com):
 * `webhook-signature: v1,<base64 HMAC-SHA256("{webhook-id}.{webhook-timestamp}.{body}")>` keyed
 * with the base64-decoded part of a `whsec_` secret (`webhookSignature`, shared with the webhooks
 * Worker). The local provider verifies with the same code the sender signs with, and the tests
 * check both against the specification's vector.
 */
import { EdgebusError } from "#shared/errors.ts";
import { webhookSignature } from "#shared/webhooks/webhook-signature.ts";

const SECRET_PREFIX = "whsec_";
/** The spec's recommended tolerance against replayed deliveries. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** Decodes a `whsec_<base64>` secret into key bytes; anything else is a configuration error. */
export function decodeWebhookSecret(secret: string): Uint8Array<ArrayBuffer> {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  } catch {
    throw new EdgebusError("bad_request", "webhook secret is not base64 (expected whsec_<base64>)", {
      retryable: false,
    });
  }
  // The spec asks for 24–64 bytes of key material.
  if (bytes.length < 24 || bytes.length > 64) {
    throw new EdgebusError("bad_request", `webhook secret must decode to 24–64 bytes, got ${bytes.length}`, {
      retryable: false,
    });
  }
  return bytes;
}

/**
 * The three headers for one delivery of `body`, signed with the secret, or with its key bytes
 * (`decodeWebhookSecret`) when the caller decoded them once for many deliveries.
 */
export function signWebhook(
  secret: string | Uint8Array,
  id: string,
  timestampSeconds: number,
  body: string,
): WebhookHeaders {
  const timestamp = String(Math.floor(timestampSeconds));
  const key = typeof secret === "string" ? decodeWebhookSecret(secret) : secret;
  const signature = webhookSignature(key, id, timestamp, body);
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}

export type WebhookVerification =
  | { ok: true }
  | { ok: false; reason: "missing_headers" | "invalid_timestamp" | "timestamp_out_of_tolerance" | "bad_signature" };

/**
 * Verifies a delivery as a receiver must: all three headers present, timestamp within
 * `toleranceSeconds` of now, and one of the space-separated `v1,` signatures matching.
 */
export function verifyWebhook(
  secret: string,
  headers: Partial<Record<keyof WebhookHeaders, string | null | undefined>>,
  body: string,
  { nowSeconds = Date.now() / 1000, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = {},
): WebhookVerification {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return { ok: false, reason: "missing_headers" };
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: "invalid_timestamp" };
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    return { ok: false, reason: "timestamp_out_of_tolerance" };
  }
  const expected = webhookSignature(decodeWebhookSecret(secret), id, timestamp, body);
  const matches = signatures
    .split(" ")
    .some((entry) => entry.startsWith("v1,") && constantTimeEqual(entry.slice(3), expected));
  return matches ? { ok: true } : { ok: false, reason: "bad_signature" };
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
