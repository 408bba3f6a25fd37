/**
 * Replay protection for `POST /v1/mirror`: every signed request carries a nonce
 * (shared/src/mirror-signature.ts), and a nonce may be used once while its timestamp is within the
 * tolerance window. `claim()` is true the first time a nonce is seen, false after.
 *
 * `RedisNonceStore` keeps nonces in Redis (`SET key 1 NX EX ttl`), so several bridges behind one
 * name share them. It fails closed: when Redis cannot answer, `claim()` rejects with
 * `upstream_unavailable` (503, retryable, `Retry-After`) and the request is refused, never let
 * through unchecked. `MemoryNonceStore` is one process's memory (tests, embedding code).
 */
import { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";

const log = createLogger({ component: "mirror" });

export const DEFAULT_NONCE_KEY_PREFIX = "edgebus:mirror-nonce:";

export interface NonceStore {
  /** True when `nonce` was not seen before (and is now recorded for `ttlSeconds`). */
  claim(nonce: string, ttlSeconds: number): Promise<boolean>;
  close(): Promise<void>;
}

function storeDown(cause: unknown): EdgebusError {
  return new EdgebusError(
    "upstream_unavailable",
    "replay protection is unavailable (the nonce store cannot be reached); the request was not accepted",
    { cause, retryAfterSeconds: 5 },
  );
}

export class RedisNonceStore implements NonceStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  /**
   * @param prefix inside the Redis REST gateway's key space (`redisRest.keyPatterns`, `edgebus:*`
   * by default), so the gateway's Redis user may write them when both share `redisRest.url`.
   * Isolation from gateway token holders: `mirror.nonceRedisUrl` as another user or Redis.
   */
  constructor(redisUrl: string, prefix = DEFAULT_NONCE_KEY_PREFIX) {
    this.#prefix = prefix;
    // Fail fast rather than queue: one retry, and a command that hangs times out.
    // The gateway's restricted ACL user may not run INFO or CLIENT SETINFO: skip ioredis's ready
    // check and client info, which would otherwise log a plain-text warning and fill ACL LOG.
    this.#redis = new Redis(redisUrl, {
      maxRetriesPerRequest: 1,
      commandTimeout: 2_000,
      enableReadyCheck: false,
      disableClientInfo: true,
    });
    let down = false;
    this.#redis.on("error", (error: Error) => {
      if (down) return;
      down = true;
      log.log(
        "warn",
        "nonce store (Redis) unreachable; refusing mirror requests with 503 until it is back",
        errorLogFields(error),
      );
    });
    this.#redis.on("ready", () => {
      down = false;
    });
  }

  async claim(nonce: string, ttlSeconds: number): Promise<boolean> {
    let answer: string | null;
    try {
      answer = await this.#redis.set(`${this.#prefix}${nonce}`, "1", "EX", Math.max(1, Math.ceil(ttlSeconds)), "NX");
    } catch (error) {
      if (/NOPERM/.test(String((error as Error)?.message))) {
        log.log(
          "error",
          "nonce store: the Redis user may not SET the nonce keys; see mirror.nonceRedisUrl and mirror.nonceKeyPrefix",
          {
            note: `needs ~${this.#prefix}* and +set`,
          },
        );
      }
      throw storeDown(error);
    }
    return answer === "OK";
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

export class MemoryNonceStore implements NonceStore {
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    this.#now = options.now ?? Date.now;
  }

  async claim(nonce: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#now();
    const until = this.#seen.get(nonce);
    if (until !== undefined && until > now) return false;
    if (this.#seen.size >= this.#maxEntries) {
      for (const [key, expiry] of this.#seen) if (expiry <= now) this.#seen.delete(key);
      // Still full: refuse rather than forget nonces that are still valid.
      if (this.#seen.size >= this.#maxEntries) throw storeDown("in-memory nonce store is full");
    }
    this.#seen.set(nonce, now + ttlSeconds * 1000);
    return true;
  }

  async close(): Promise<void> {
    this.#seen.clear();
  }
}
