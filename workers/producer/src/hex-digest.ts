import { hexOf } from "#shared/hex.ts";

/** Lowercase hex digest of a text's UTF-8 bytes, with Web Crypto (workerd and Node alike). */
export async function hexDigest(algorithm: "SHA-1" | "SHA-256", text: string): Promise<string> {
  const digest = await crypto.subtle.digest(algorithm, new TextEncoder().encode(text));
  return hexOf(new Uint8Array(digest));
}
