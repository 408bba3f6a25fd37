/**
 * Signing secrets of webhook subscriptions, in the Standard Webhooks form `whsec_<base64 of 32
 * random bytes>`. A subscription keeps a short list, newest first; after a rotation the previous
 * secret stays valid (the dispatcher signs with both) until its `expires_at`.
 */

export interface StoredSecret {
  readonly secret: string;
  readonly created_at: string;
  /** Null for the current secret; a time for one being retired. */
  readonly expires_at: string | null;
}

export function generateSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** The secrets after a rotation: a new current one, the old current one valid for `overlapSeconds`, expired ones dropped. */
export function rotateSecrets(
  secrets: readonly StoredSecret[],
  overlapSeconds: number,
  now = new Date(),
): { secrets: StoredSecret[]; secret: string } {
  const secret = generateSecret();
  const expiresAt = new Date(now.getTime() + overlapSeconds * 1000).toISOString();
  const kept = secrets
    .filter((entry) => entry.expires_at === null || Date.parse(entry.expires_at) > now.getTime())
    .map((entry) => ({ ...entry, expires_at: entry.expires_at ?? expiresAt }));
  return { secret, secrets: [{ secret, created_at: now.toISOString(), expires_at: null }, ...kept] };
}
