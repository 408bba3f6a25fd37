/**
 * Where sign-out records that a console session is over. A session cookie stays verifiable by
 * its signature until it expires (`session.ts`), so ending it early needs a record every isolate
 * sees: `edgebus:console:revoked:<session id>` in Redis (through the producer's Upstash Redis
 * REST endpoint), with a TTL that lasts until the session would have expired anyway, so the set
 * never grows beyond the sessions signed out in the last `SESSION_TTL_SECONDS`.
 *
 * In development without Redis the record lives in isolate memory (one `wrangler dev` process is
 * one isolate). Outside development Redis is required (the producer refuses to publish without it
 * too); a Redis failure fails closed: the session is treated as revoked (401) rather than trusted.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { withRedisDeadline } from "../redis-client.ts";

export interface SessionRevocations {
  /** Records `sid` as signed out until `expiresAt` (seconds since the epoch). */
  revoke(sid: string, expiresAt: number): Promise<void>;
  /** Whether `sid` was signed out; throws when it cannot tell. */
  isRevoked(sid: string): Promise<boolean>;
}

const PREFIX = "edgebus:console:revoked:";

export class RedisSessionRevocations implements SessionRevocations {
  private readonly redis: Redis;
  private readonly timeoutMs: number;

  constructor(redis: Redis, timeoutMs: number) {
    this.redis = redis;
    this.timeoutMs = timeoutMs;
  }

  async revoke(sid: string, expiresAt: number): Promise<void> {
    const seconds = Math.max(1, expiresAt - Math.floor(Date.now() / 1000));
    await withRedisDeadline("console session revocation (Redis) set", this.timeoutMs, () =>
      this.redis.set(`${PREFIX}${sid}`, "1", { ex: seconds }),
    );
  }

  async isRevoked(sid: string): Promise<boolean> {
    const found = await withRedisDeadline("console session revocation (Redis) exists", this.timeoutMs, () =>
      this.redis.exists(`${PREFIX}${sid}`),
    );
    return found > 0;
  }
}

/** Development only: revoked session ids in this isolate's memory, forgotten after they expire. */
export class MemorySessionRevocations implements SessionRevocations {
  readonly #revoked = new Map<string, number>();

  async revoke(sid: string, expiresAt: number): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    for (const [id, until] of this.#revoked) if (until <= now) this.#revoked.delete(id);
    this.#revoked.set(sid, expiresAt);
  }

  async isRevoked(sid: string): Promise<boolean> {
    const until = this.#revoked.get(sid);
    return until !== undefined && until > Math.floor(Date.now() / 1000);
  }
}
