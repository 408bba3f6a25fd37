import type { Redis } from "@upstash/redis";
import type { PublishReceipt } from "../brokers/publisher.ts";
import { EdgebusError } from "../errors.ts";
import { DEDUP_WINDOW_SECONDS, type DedupStore, type DeliveryRecord } from "./dedup-store.ts";

/** Create the record only if absent, with its 24 h expiry, in one step. */
const CREATE_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'destinations', ARGV[1], 'first_seen_at', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

/** Delete the lease only if this holder still owns it (it may have expired and been re-taken). */
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Set a field only while the record exists, so a late write cannot resurrect an expired key without TTL. */
const HSET_IF_EXISTS_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])`;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Dedup records in Upstash Redis (or the bridge's Redis REST gateway), shared by every isolate.
 *
 * Layout: hash `<prefix>:event:<sha256(key)>` with `destinations` (JSON), `first_seen_at`,
 * `complete` and one `d:<destination>` field per acknowledged destination (receipt JSON);
 * string `<prefix>:lease:<sha256(key)>` holding the lease holder, set NX with a PX expiry.
 * Keys are hashed because `source` and `id` are caller-chosen and unbounded.
 */
export class RedisDedupStore implements DedupStore {
  readonly shared = true;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = "edgebus:dedup",
  ) {}

  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new EdgebusError("upstream_unavailable", `dedup store (Redis) failed during ${operation}`, {
        cause: error,
        retryAfterSeconds: 1,
      });
    }
  }

  async #recordKey(key: string): Promise<string> {
    return `${this.prefix}:event:${await sha256Hex(key)}`;
  }

  async #leaseKey(key: string): Promise<string> {
    return `${this.prefix}:lease:${await sha256Hex(key)}`;
  }

  async get(key: string): Promise<DeliveryRecord | null> {
    const redisKey = await this.#recordKey(key);
    const fields = await this.#call("get", () => this.redis.hgetall<Record<string, unknown>>(redisKey));
    if (fields === null || fields.destinations === undefined) return null;
    const delivered: Record<string, PublishReceipt> = {};
    for (const [field, value] of Object.entries(fields)) {
      if (field.startsWith("d:")) delivered[field.slice(2)] = parseJsonField(value) as PublishReceipt;
    }
    return {
      destinations: parseJsonField(fields.destinations) as string[],
      delivered,
      complete: String(fields.complete) === "1",
      firstSeenAt: String(fields.first_seen_at),
    };
  }

  async create(key: string, destinations: readonly string[], firstSeenAt: string): Promise<boolean> {
    const redisKey = await this.#recordKey(key);
    const created = await this.#call("create", () =>
      this.redis.eval(CREATE_SCRIPT, [redisKey], [JSON.stringify(destinations), firstSeenAt, DEDUP_WINDOW_SECONDS]),
    );
    return Number(created) === 1;
  }

  async markDelivered(key: string, destination: string, receipt: PublishReceipt): Promise<void> {
    const redisKey = await this.#recordKey(key);
    await this.#call("markDelivered", () =>
      this.redis.eval(HSET_IF_EXISTS_SCRIPT, [redisKey], [`d:${destination}`, JSON.stringify(receipt)]),
    );
  }

  async markComplete(key: string): Promise<void> {
    const redisKey = await this.#recordKey(key);
    await this.#call("markComplete", () => this.redis.eval(HSET_IF_EXISTS_SCRIPT, [redisKey], ["complete", "1"]));
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const leaseKey = await this.#leaseKey(key);
    const result = await this.#call("acquireLease", () => this.redis.set(leaseKey, holder, { nx: true, px: ttlMs }));
    return result === "OK";
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    const leaseKey = await this.#leaseKey(key);
    await this.#call("releaseLease", () => this.redis.eval(RELEASE_SCRIPT, [leaseKey], [holder]));
  }
}

/** `@upstash/redis` deserialises JSON-looking values itself; accept either form. */
function parseJsonField(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
