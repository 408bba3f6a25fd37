import { hexDigest } from "../hex-digest.ts";

/** Lowercase hex SHA-256 of an API key: the only form in which keys are stored. */
export async function hashApiKey(key: string): Promise<string> {
  return await hexDigest("SHA-256", key);
}

/** A new random key: `ebk_` + 32 random bytes in base64url (256 bits of entropy). */
export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const base64 = btoa(String.fromCharCode(...bytes));
  return `ebk_${base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}`;
}
