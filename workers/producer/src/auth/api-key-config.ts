/**
 * API keys of the producer, as configured in the `EDGEBUS_API_KEYS` Worker secret: a JSON array
 * of `{id, hash, sources, types, admin?, scopes?, rate_limit?}`. Only the SHA-256 hash of a key is
 * stored (`npx tsx scripts/api-key.ts <id>` mints a key and prints its entry).
 *
 * `sources` and `types` are segment globs (`scope-pattern.ts`): `*` within one segment, `**`
 * across segments (`/services/permits/**`, `gov.permits.**`, `**` for anything).
 */
import { z } from "zod";
import { formatPath } from "#shared/catalogue/data-issues.ts";
import { EdgebusError } from "#shared/errors.ts";
import { type ScopeKind, scopePatternProblem } from "./scope-pattern.ts";

/** A list of scope patterns of `kind`; a malformed one is refused naming the problem. */
function scopePatterns(kind: ScopeKind) {
  return z
    .array(
      z.string().superRefine((pattern, ctx) => {
        const problem = scopePatternProblem(pattern, kind);
        if (problem !== undefined)
          ctx.addIssue({ code: "custom", message: `${kind} pattern ${JSON.stringify(pattern)} ${problem}` });
      }),
    )
    .default([]);
}

export const rateLimitSchema = z.strictObject({
  /** Events (not requests: a batch of 20 counts 20) allowed per window. */
  requests: z.number().int().positive(),
  window_seconds: z.number().int().positive().max(86_400),
});

export type RateLimit = z.infer<typeof rateLimitSchema>;

/** Applied to keys without `rate_limit`. */
export const DEFAULT_RATE_LIMIT: RateLimit = { requests: 1000, window_seconds: 60 };

/**
 * Scopes a key may hold beyond publishing by source and type. `notify:direct-contact`: the
 * notifier may send to contact details (email, phone) carried in this key's events; without it
 * it sends only to the citizen directory's (`citizen_refs`). The producer stamps the answer into
 * each event (`edgebusdirectcontact`, shared/src/envelope/extensions.ts). `metrics`: may read
 * `GET /v1/metrics/consumers` (a Prometheus scraper's key: with no `sources` or `types` it can
 * publish nothing; an `admin` key may read it too).
 */
export const DIRECT_CONTACT_SCOPE = "notify:direct-contact";
export const METRICS_SCOPE = "metrics";
/** `subscriptions`: may manage webhook subscriptions through /v1/subscriptions, only those it created (admin: all). */
export const SUBSCRIPTIONS_SCOPE = "subscriptions";
/** `notify:push-subscriptions`: the citizen app's service; may register and remove citizens' Web Push subscriptions. */
export const PUSH_SUBSCRIPTIONS_SCOPE = "notify:push-subscriptions";
export const KEY_SCOPES = [DIRECT_CONTACT_SCOPE, METRICS_SCOPE, SUBSCRIPTIONS_SCOPE, PUSH_SUBSCRIPTIONS_SCOPE] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export const apiKeyEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "lowercase letters, digits, '-' and '_' (max 64)"),
  hash: z.string().regex(/^[0-9a-f]{64}$/, "the lowercase hex SHA-256 of the key"),
  sources: scopePatterns("source"),
  types: scopePatterns("type"),
  admin: z.boolean().default(false),
  scopes: z.array(z.enum(KEY_SCOPES)).default([]),
  rate_limit: rateLimitSchema.optional(),
});

export type ApiKeyEntry = z.output<typeof apiKeyEntrySchema>;

export const apiKeysSchema = z.array(apiKeyEntrySchema).superRefine((keys, ctx) => {
  const seen = new Set<string>();
  for (const [index, key] of keys.entries()) {
    if (seen.has(key.id)) ctx.addIssue({ code: "custom", path: [index, "id"], message: `duplicate key id ${key.id}` });
    seen.add(key.id);
  }
});

/** Parses the secret's JSON text; a broken secret is an operator error, reported by name. */
export function parseApiKeys(text: string | undefined): ApiKeyEntry[] {
  if (text === undefined || text.trim() === "") return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EdgebusError("internal", "EDGEBUS_API_KEYS is not valid JSON (wrangler secret put EDGEBUS_API_KEYS)");
  }
  const parsed = apiKeysSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined || first.path.length === 0 ? "" : `${formatPath("", first.path)}: `;
    throw new EdgebusError("internal", `EDGEBUS_API_KEYS is invalid: ${where}${first?.message ?? ""}`, {
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}
