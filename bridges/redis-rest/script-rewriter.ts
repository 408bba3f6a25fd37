import { createHash } from "node:crypto";

/**
 * Shebang flags that only Upstash's own server understands. `@upstash/ratelimit` ≥ 2.1 starts
 * its scripts with `#!lua flags=allow-key-locking`; Redis 7 rejects the script with
 * `ERR Unexpected flag in script shebang`. The flag only narrows Upstash's locking, so dropping
 * it keeps the script's meaning on a plain Redis.
 */
const UPSTASH_ONLY_FLAGS: ReadonlySet<string> = new Set(["allow-key-locking"]);

const SHEBANG = /^#!lua(?<rest>[^\r\n]*)(?<eol>\r?\n|$)/;

/** SHA-1 of the script's UTF-8 bytes, as Redis and `@upstash/ratelimit` compute it. */
export function scriptSha(script: string): string {
  return createHash("sha1").update(script, "utf8").digest("hex");
}

/**
 * Returns the script with Upstash-only shebang flags removed, or `null` when it needs no change.
 * Other flags (`no-writes`, …) and the rest of the text, line breaks included, are kept so that
 * line numbers in Redis error messages still match the client's source.
 */
export function rewriteScript(script: string): string | null {
  const match = SHEBANG.exec(script);
  if (!match?.groups) return null;
  const rest = match.groups.rest ?? "";
  const tokens = rest.trim().split(/\s+/).filter(Boolean);
  let changed = false;
  const kept = tokens.map((token) => {
    if (!token.startsWith("flags=")) return token;
    const flags = token.slice("flags=".length).split(",");
    const remaining = flags.filter((flag) => !UPSTASH_ONLY_FLAGS.has(flag));
    if (remaining.length === flags.length) return token;
    changed = true;
    return remaining.length > 0 ? `flags=${remaining.join(",")}` : "";
  });
  if (!changed) return null;
  const shebang = ["#!lua", ...kept.filter(Boolean)].join(" ");
  return `${shebang}${match.groups.eol ?? ""}${script.slice(match[0].length)}`;
}

/**
 * Remembers, for every rewritten script, the SHA-1 of the client's original text (what the client
 * later sends with `EVALSHA`) and the SHA-1 of the text Redis actually cached.
 *
 * Guarantees: entries outlive Redis's script cache on purpose — after `SCRIPT FLUSH` or a Redis
 * restart the mapped `EVALSHA` gets Redis's own `NOSCRIPT`, the client falls back to `EVAL`, and
 * Redis caches the same rewritten text under the same SHA-1 again. Bounded: the least recently
 * used entry is dropped beyond `capacity` (a dropped entry costs one `NOSCRIPT` round trip).
 */
export class ScriptShaMap {
  readonly #capacity: number;
  readonly #redisShaByClientSha = new Map<string, string>();

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  /** Records a rewrite and returns the SHA-1 Redis will know the rewritten script by. */
  remember(originalScript: string, rewrittenScript: string): string {
    const clientSha = scriptSha(originalScript);
    const redisSha = scriptSha(rewrittenScript);
    this.#redisShaByClientSha.delete(clientSha);
    this.#redisShaByClientSha.set(clientSha, redisSha);
    if (this.#redisShaByClientSha.size > this.#capacity) {
      const oldest = this.#redisShaByClientSha.keys().next().value;
      if (oldest !== undefined) this.#redisShaByClientSha.delete(oldest);
    }
    return redisSha;
  }

  /** The SHA-1 to send to Redis for a client's SHA-1 (itself when the script was never rewritten). */
  resolve(clientSha: string): string {
    const key = clientSha.toLowerCase();
    const redisSha = this.#redisShaByClientSha.get(key);
    if (redisSha === undefined) return clientSha;
    this.#redisShaByClientSha.delete(key);
    this.#redisShaByClientSha.set(key, redisSha);
    return redisSha;
  }

  get size(): number {
    return this.#redisShaByClientSha.size;
  }
}
