/**
 * The idempotency key of one send: a hash of (event source, event id, channel, recipient), so a
 * redelivered event maps to the same key on every attempt, while the same event sent to a
 * second channel or a changed address is a different send. Hashed (not concatenated) because
 * providers bound header lengths and the recipient is personal data.
 *
 * `node:crypto`'s hash (workerd provides it with nodejs_compat, on by default for this Worker's
 * compatibility date) rather than `crypto.subtle.digest`: the same SHA-256, computed at once
 * instead of as a job that resolves a promise later. Every send computes one, so in Node the
 * async job's overhead was a tenth of the handler's CPU; the keys are unchanged.
 */
import { createHash } from "node:crypto";

export function idempotencyKeyOf(parts: { source: string; id: string; channel: string; recipient: string }): string {
  // NUL separators: none of the parts can contain one, so distinct tuples never collide.
  const input = [parts.source, parts.id, parts.channel, parts.recipient.toLowerCase()].join("\u0000");
  return `ntf_${createHash("sha256").update(input, "utf8").digest("hex")}`;
}
