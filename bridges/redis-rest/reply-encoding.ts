/**
 * Turns a Redis reply (from the RESP connection, or from ioredis's `callBuffer` in transactions:
 * bulk and status strings arrive as Buffers and binary values survive) into the JSON value of an
 * Upstash REST `result`.
 *
 * With `Upstash-Encoding: base64` every string is base64-encoded — status replies such as `OK`
 * included, as SRH does: the client decodes `"T0s="` back to `"OK"`, while a raw string that
 * happens to be valid base64 (`"abcd"`) would be corrupted by the client's decoder. Integers and
 * nil stay as they are; nested arrays are encoded element by element.
 */
export type JsonReply = string | number | null | JsonReply[];

export function encodeReply(reply: unknown, base64: boolean): JsonReply {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (reply instanceof Uint8Array) {
    // The RESP connection's replies are Buffers already; a plain Uint8Array gets a view.
    const bytes = Buffer.isBuffer(reply) ? reply : Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
    return bytes.toString(base64 ? "base64" : "utf8");
  }
  if (typeof reply === "string") return base64 ? Buffer.from(reply, "utf8").toString("base64") : reply;
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64));
  // An error nested inside an array (a Lua table holding redis.error_reply): REST has no place for
  // it below the top level, so it travels as its message text.
  if (reply instanceof Error) return encodeReply(reply.message, base64);
  // RESP2 has no other reply types; a bigint or boolean would mean a changed client setting.
  return encodeReply(String(reply), base64);
}
