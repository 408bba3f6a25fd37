/**
 * The Standard Webhooks signature (standardwebhooks.com) of one delivery: the base64 HMAC-SHA256
 * of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with a secret's key bytes (the base64 part
 * after `whsec_`). The notifier signs its case-management webhooks with it and the webhooks
 * Worker its subscribers' deliveries; each reads its secrets its own way.
 *
 * `node:crypto`'s HMAC (workerd provides it with nodejs_compat, on by default for these Workers'
 * compatibility date) rather than Web Crypto's `importKey` + `sign`: the same HMAC-SHA256,
 * computed at once instead of two jobs that each resolve a promise later. A signature with the
 * key decoded beforehand took 12–17 µs of workerd's CPU, against 34–41 µs decoding and importing
 * the secret for each one (23–26 against 113–130 µs in Node).
 */
import { createHmac } from "node:crypto";

export function webhookSignature(key: Uint8Array, id: string, timestamp: string | number, body: string): string {
  return createHmac("sha256", key).update(`${id}.${timestamp}.${body}`, "utf8").digest("base64");
}
