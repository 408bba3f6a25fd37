/**
 * Helpers for the producer's workerd tests: mint real API keys, build an env from the real
 * bindings plus test settings, and make CloudEvents from the catalogue's own examples.
 * Imported only by `*.test.ts` files.
 */
import { env } from "cloudflare:workers";
import { governmentCatalogue } from "../../../schemas/index.ts";
import type { ApiKeyEntry } from "./auth/api-key-config.ts";
import { generateApiKey, hashApiKey } from "./auth/key-hash.ts";

export interface MintedKey {
  key: string;
  entry: ApiKeyEntry;
}

export async function mintKey(scopes: Partial<Omit<ApiKeyEntry, "hash">> = {}): Promise<MintedKey> {
  const key = generateApiKey();
  return {
    key,
    entry: {
      id: scopes.id ?? `test-${crypto.randomUUID().slice(0, 8)}`,
      hash: await hashApiKey(key),
      sources: scopes.sources ?? ["**"],
      types: scopes.types ?? ["**"],
      admin: scopes.admin ?? false,
      scopes: scopes.scopes ?? [],
      ...(scopes.rate_limit === undefined ? {} : { rate_limit: scopes.rate_limit }),
    },
  };
}

/** The real bindings (queues from wrangler.toml) with test settings on top. */
export function testEnv(keys: readonly MintedKey[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...(env as unknown as Record<string, unknown>),
    EDGEBUS_API_KEYS: JSON.stringify(keys.map((k) => k.entry)),
    ...extra,
  };
}

/** A valid structured CloudEvent of `type`, with the catalogue's example data and a fresh id. */
export function structuredEvent(type = "gov.auth.citizen.created", overrides: Record<string, unknown> = {}) {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/services/identity",
    type,
    eventversion: 1,
    data: structuredClone(governmentCatalogue.require(type).example),
    ...overrides,
  };
}

export function bearer(minted: MintedKey): Record<string, string> {
  return { Authorization: `Bearer ${minted.key}` };
}

export const CE_JSON = { "Content-Type": "application/cloudevents+json" };
export const CE_BATCH = { "Content-Type": "application/cloudevents-batch+json" };

/** A parsed JSON response body in assertions; the assertions themselves check the shape. */
// biome-ignore lint/suspicious/noExplicitAny: tests reach into nested fields and assert on them
export type ResponseJson = Record<string, any>;
