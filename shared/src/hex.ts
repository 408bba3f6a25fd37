/** Lowercase hex of bytes, two characters per byte (digests, MACs, random identifiers). */
export function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
