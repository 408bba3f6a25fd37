/**
 * The idempotency key of one send: a hash of (event source, event id, channel, recipient), so a
 * redelivered event maps to the same key on every attempt, while the same event sent to a
 * second channel or a changed address is a different send. Hashed (not concatenated) because
 * providers bound header lengths and the recipient is personal data.
 */
export async function idempotencyKeyOf(parts: {
  source: string;
  id: string;
  channel: string;
  recipient: string;
}): Promise<string> {
  // NUL separators: none of the parts can contain one, so distinct tuples never collide.
  const input = [parts.source, parts.id, parts.channel, parts.recipient.toLowerCase()].join("\u0000");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input)));
  return `ntf_${Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}
