/**
 * Standard Webhooks signatures: `webhook-signature` holds one `v1,<base64 HMAC-SHA256>` per valid
 * secret, space-separated, each over `<webhook-id>.<webhook-timestamp>.<body>` with the key that
 * follows `whsec_` (base64-decoded). A receiver accepts the request when any one matches, which is
 * what lets a rotated secret and its predecessor both work during the overlap
 * (`webhookSignature`, shared with the notifier).
 */
import { webhookSignature } from "#shared/webhooks/webhook-signature.ts";

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0)) as Uint8Array<ArrayBuffer>;
}

/** The HMAC key of a `whsec_…` secret. */
export function secretKeyBytes(secret: string): Uint8Array<ArrayBuffer> {
  if (!secret.startsWith("whsec_")) throw new Error("a signing secret starts with whsec_");
  return base64ToBytes(secret.slice("whsec_".length));
}

/** `v1,<base64>` for one secret. */
export function signOne(secret: string, messageId: string, timestamp: number, body: string): string {
  return `v1,${webhookSignature(secretKeyBytes(secret), messageId, timestamp, body)}`;
}

/** The `webhook-signature` value: one signature per secret, newest first. */
export function signatureHeader(
  secrets: readonly string[],
  messageId: string,
  timestamp: number,
  body: string,
): string {
  return secrets.map((secret) => signOne(secret, messageId, timestamp, body)).join(" ");
}
