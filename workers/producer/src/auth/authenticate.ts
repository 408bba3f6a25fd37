import { EdgebusError } from "#shared/errors.ts";
import type { ApiKeyEntry } from "./api-key-config.ts";
import { hashApiKey } from "./key-hash.ts";
import { scopePatternMatches, sourceProblem } from "./scope-pattern.ts";

/** The authenticated caller: the key's configuration, never the key itself. */
export type Principal = ApiKeyEntry;

/**
 * `Authorization: Bearer <key>` → the matching key entry, or 401. Keys are compared by their
 * SHA-256 hash, so the comparison never touches the secret and its timing says nothing about it.
 */
export async function authenticate(authorization: string | null, keys: readonly ApiKeyEntry[]): Promise<Principal> {
  if (authorization === null || authorization.trim() === "") {
    throw new EdgebusError("unauthorized", "missing Authorization header; send Authorization: Bearer <api key>");
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (match?.[1] === undefined) {
    throw new EdgebusError("unauthorized", "the Authorization header must be `Bearer <api key>`");
  }
  const token = match[1];
  const hash = recentKeyHashes.get(token) ?? (await hashApiKey(token));
  const principal = keys.find((key) => key.hash === hash);
  if (principal === undefined) throw new EdgebusError("unauthorized", "unknown API key");
  rememberKeyHash(token, hash);
  return principal;
}

/**
 * Hashes of keys that authenticated recently in this isolate, so a busy key is not hashed on every
 * request. Only keys that matched a configured entry are kept (random tokens cannot fill it), at
 * most `RECENT_KEY_HASHES`, the oldest dropped first; the hash is still compared with the current
 * configuration on every request, so a removed or rotated key stops working at once.
 */
const RECENT_KEY_HASHES = 256;
const recentKeyHashes = new Map<string, string>();

function rememberKeyHash(token: string, hash: string): void {
  if (recentKeyHashes.has(token)) return;
  if (recentKeyHashes.size >= RECENT_KEY_HASHES) {
    const oldest = recentKeyHashes.keys().next().value;
    if (oldest !== undefined) recentKeyHashes.delete(oldest);
  }
  recentKeyHashes.set(token, hash);
}

/**
 * What `assertMayPublish` found for a key's recent sources and types: a service publishes the
 * same few over and over, and matching every event against the key's patterns again was a
 * measurable part of a batch. At most `MAX_REMEMBERED_VERDICTS` of each per key (arbitrary
 * input must not grow them); the key's configuration object is the cache key, so a new
 * configuration starts afresh.
 */
const MAX_REMEMBERED_VERDICTS = 256;
const scopeVerdicts = new WeakMap<
  Principal,
  { sources: Map<string, { problem: string | undefined; allowed: boolean }>; types: Map<string, boolean> }
>();

function verdictsOf(principal: Principal) {
  let verdicts = scopeVerdicts.get(principal);
  if (verdicts === undefined) {
    verdicts = { sources: new Map(), types: new Map() };
    scopeVerdicts.set(principal, verdicts);
  }
  return verdicts;
}

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  if (map.size < MAX_REMEMBERED_VERDICTS) map.set(key, value);
}

/**
 * 403 unless the key may publish `type` from `source` (`scope-pattern.ts`). Before that, 400 for a
 * `source` with an empty, `.` or `..` segment, whatever the key: scopes match by segment, and
 * such a source could name another path for whoever resolves it.
 */
export function assertMayPublish(principal: Principal, event: { source: string; type: string }): void {
  const verdicts = verdictsOf(principal);
  let source = verdicts.sources.get(event.source);
  if (source === undefined) {
    const problem = sourceProblem(event.source);
    source = {
      problem,
      allowed:
        problem === undefined &&
        principal.sources.some((pattern) => scopePatternMatches(pattern, event.source, "source")),
    };
    remember(verdicts.sources, event.source, source);
  }
  let typeAllowed = verdicts.types.get(event.type);
  if (typeAllowed === undefined) {
    typeAllowed = principal.types.some((pattern) => scopePatternMatches(pattern, event.type, "type"));
    remember(verdicts.types, event.type, typeAllowed);
  }
  const problem = source.problem;
  if (problem !== undefined) {
    throw new EdgebusError("invalid_envelope", problem, {
      details: { issues: [{ path: "source", message: problem }] },
    });
  }
  if (!source.allowed) {
    throw new EdgebusError("forbidden", `API key ${principal.id} may not publish from source "${event.source}"`, {
      details: { key_id: principal.id, source: event.source, allowed_sources: principal.sources },
    });
  }
  if (!typeAllowed) {
    throw new EdgebusError("forbidden", `API key ${principal.id} may not publish events of type "${event.type}"`, {
      details: { key_id: principal.id, type: event.type, allowed_types: principal.types },
    });
  }
}

/**
 * The source of an event that names none (the legacy envelope without `source`): the key's only
 * allowed source, when its `sources` are one literal source (no `*`). A key allowed several
 * sources cannot say which one is meant: 422 naming the field.
 */
export function onlySourceOf(principal: Principal): string {
  const [only, ...others] = principal.sources;
  if (only !== undefined && others.length === 0 && !only.includes("*")) return only;
  const message = `the event has no source, and API key ${principal.id} may publish from ${
    principal.sources.length === 1 ? "every source its pattern admits" : `${principal.sources.length} source patterns`
  }; send source (the service that publishes it)`;
  throw new EdgebusError("schema_validation_failed", message, {
    details: {
      issues: [{ path: "source", message: "required: the API key does not allow exactly one source" }],
      allowed_sources: principal.sources,
    },
  });
}

/** 403 unless the key has the `admin` scope. */
export function assertAdmin(principal: Principal): void {
  if (!principal.admin) throw new EdgebusError("forbidden", `API key ${principal.id} lacks the admin scope`);
}
