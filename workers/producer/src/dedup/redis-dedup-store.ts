import type { Redis } from "@upstash/redis";
import { EdgebusError, isEdgebusError } from "#shared/errors.ts";
import type { PublishReceipt } from "../brokers/publisher.ts";
import { withRedisDeadline } from "../redis-client.ts";
import {
  type BeginOptions,
  type BeginResult,
  DEDUP_WINDOW_SECONDS,
  type DedupStore,
  type DeliveryRecord,
} from "./dedup-store.ts";

/**
 * KEYS: record, lease. ARGV: holder, leaseMs, plan (JSON), firstSeenAt, window seconds.
 * Returns a flat array: {"complete", field, value, …} | {"busy"} | {"created"} | {"owned", field, value, …}.
 */
const BEGIN_SCRIPT = `local fields = redis.call('HGETALL', KEYS[1])
if redis.call('HGET', KEYS[1], 'complete') == '1' then
  table.insert(fields, 1, 'complete')
  return fields
end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'busy'} end
if #fields == 0 then
  redis.call('HSET', KEYS[1], 'destinations', ARGV[3], 'first_seen_at', ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return {'created'}
end
table.insert(fields, 1, 'owned')
return fields`;

/**
 * KEYS: record, lease. ARGV: holder, complete ("1"/"0"), then field/value pairs of receipts.
 * Writes only into an existing record (a late finish must not recreate one without expiry).
 */
const FINISH_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 1 then
  if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
  if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'complete', '1') end
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Dedup records in Upstash Redis (or the bridge's Redis REST gateway), shared by every isolate.
 * `begin` and `finish` are one Lua script each, so an event costs two Redis round trips.
 *
 * Layout: hash `<prefix>:event:<sha256(key)>` with `destinations` (JSON), `first_seen_at`,
 * `complete` and one `d:<destination>` field per acknowledged destination (receipt JSON);
 * string `<prefix>:lease:<sha256(key)>` holding the lease holder, set NX with a PX expiry.
 * Keys are hashed because `source` and `id` are caller-chosen and unbounded.
 *
 * Every call has a deadline (`timeoutMs`, the producer's `REDIS_TIMEOUT_MS`): a Redis that does
 * not answer fails the call with `upstream_unavailable`, and the producer publishes nothing it
 * could not record (dedup fails closed).
 */
export class RedisDedupStore implements DedupStore {
  readonly shared = true;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = "edgebus:dedup",
    private readonly timeoutMs = 1000,
  ) {}

  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await withRedisDeadline(`dedup store (Redis) ${operation}`, this.timeoutMs, run);
    } catch (error) {
      if (isEdgebusError(error)) throw error;
      throw new EdgebusError("upstream_unavailable", `dedup store (Redis) failed during ${operation}`, {
        cause: error,
        retryAfterSeconds: 1,
      });
    }
  }

  async #keys(key: string): Promise<[record: string, lease: string]> {
    const hash = await sha256Hex(key);
    return [`${this.prefix}:event:${hash}`, `${this.prefix}:lease:${hash}`];
  }

  async get(key: string): Promise<DeliveryRecord | null> {
    const [recordKey] = await this.#keys(key);
    const fields = await this.#call("get", () => this.redis.hgetall<Record<string, unknown>>(recordKey));
    return fields === null ? null : toRecord(fields);
  }

  async begin(key: string, holder: string, options: BeginOptions): Promise<BeginResult> {
    const keys = await this.#keys(key);
    const reply = await this.#call("begin", () =>
      this.redis.eval<(string | number)[], unknown[]>(BEGIN_SCRIPT, keys, [
        holder,
        options.leaseMs,
        JSON.stringify(options.plan),
        options.firstSeenAt,
        DEDUP_WINDOW_SECONDS,
      ]),
    );
    const [kind, ...flat] = reply;
    if (kind === "busy") return { kind: "busy" };
    if (kind === "created") {
      return {
        kind: "owned",
        created: true,
        record: { destinations: options.plan, delivered: {}, complete: false, firstSeenAt: options.firstSeenAt },
      };
    }
    const fields: Record<string, unknown> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = flat[i + 1];
    const record = toRecord(fields);
    if (record === null || (kind !== "complete" && kind !== "owned")) {
      throw new EdgebusError("upstream_unavailable", "dedup store (Redis) returned an unexpected reply", {
        details: { reply: String(kind) },
      });
    }
    return kind === "complete" ? { kind, record } : { kind, record, created: false };
  }

  async finish(
    key: string,
    holder: string,
    delivered: Readonly<Record<string, PublishReceipt>>,
    complete: boolean,
  ): Promise<void> {
    const keys = await this.#keys(key);
    const pairs = Object.entries(delivered).flatMap(([destination, receipt]) => [
      `d:${destination}`,
      JSON.stringify(receipt),
    ]);
    await this.#call("finish", () => this.redis.eval(FINISH_SCRIPT, keys, [holder, complete ? "1" : "0", ...pairs]));
  }
}

/** Hash fields → record; null when the hash does not exist (or was never initialised). */
function toRecord(fields: Record<string, unknown>): DeliveryRecord | null {
  if (fields.destinations === undefined) return null;
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

/** `@upstash/redis` deserialises JSON-looking values itself; accept either form. */
function parseJsonField(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
