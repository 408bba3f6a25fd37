import type { Redis } from "@upstash/redis";
import { EdgebusError, isEdgebusError } from "#shared/errors.ts";
import type { PublishReceipt } from "../brokers/publisher.ts";
import { hexDigest } from "../hex-digest.ts";
import { withRedisDeadline } from "../redis-client.ts";
import {
  type BeginItem,
  type BeginManyResult,
  type BeginOptions,
  type BeginResult,
  DEDUP_WINDOW_SECONDS,
  type DedupStore,
  type DeliveryRecord,
  type FinishItem,
} from "./dedup-store.ts";
import { RedisScript } from "./redis-script.ts";

/**
 * The request's rate limit, then every event's begin, in one atomic step.
 * KEYS: the rate-limit counters of the current and the previous window, then per event: record, lease.
 * ARGV: admit ("1"/"0"), limit, window ms, now ms, cost, lease ms, first seen at, record TTL
 * seconds, then per event: holder, plan (JSON).
 * Reply: {{"limited", remaining} | {"admitted", remaining} | {"unlimited"}, then per event
 * {"complete", field, value, …} | {"busy"} | {"created"} | {"owned", field, value, …}}.
 * The window estimate is the sliding window of `MemoryRateLimiter`: the previous window's count
 * weighted by how much of it still overlaps, plus the current one's.
 */
const BEGIN_MANY_SCRIPT = new RedisScript(`local replies = {}
if ARGV[1] == '1' then
  local limit, window, now, cost = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  local current = tonumber(redis.call('GET', KEYS[1]) or '0')
  local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
  local used = math.floor(previous * (1 - (now % window) / window)) + current
  if used + cost > limit then return {{'limited', math.max(0, limit - used)}} end
  redis.call('INCRBY', KEYS[1], cost)
  redis.call('PEXPIRE', KEYS[1], window * 2 + 1000)
  replies[1] = {'admitted', math.max(0, limit - used - cost)}
else
  replies[1] = {'unlimited'}
end
for i = 1, (#KEYS - 2) / 2 do
  local record, lease = KEYS[2 * i + 1], KEYS[2 * i + 2]
  local holder, plan = ARGV[7 + 2 * i], ARGV[8 + 2 * i]
  local fields = redis.call('HGETALL', record)
  if redis.call('HGET', record, 'complete') == '1' then
    table.insert(fields, 1, 'complete')
    replies[i + 1] = fields
  elseif not redis.call('SET', lease, holder, 'NX', 'PX', ARGV[6]) then
    replies[i + 1] = {'busy'}
  elseif #fields == 0 then
    redis.call('HSET', record, 'destinations', plan, 'first_seen_at', ARGV[7])
    redis.call('EXPIRE', record, ARGV[8])
    replies[i + 1] = {'created'}
  else
    table.insert(fields, 1, 'owned')
    replies[i + 1] = fields
  end
end
return replies`);

/**
 * Every event's finish in one step. KEYS: per event: record, lease. ARGV: per event: holder,
 * complete ("1"/"0"), the number of receipts, then field/value pairs of receipts.
 * Writes only into an existing record (a late finish must not recreate one without expiry).
 */
const FINISH_MANY_SCRIPT = new RedisScript(`local at = 1
for i = 1, #KEYS / 2 do
  local record, lease = KEYS[2 * i - 1], KEYS[2 * i]
  local holder, complete, pairs = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2])
  at = at + 3
  if redis.call('EXISTS', record) == 1 then
    if pairs > 0 then redis.call('HSET', record, unpack(ARGV, at, at + 2 * pairs - 1)) end
    if complete == '1' then redis.call('HSET', record, 'complete', '1') end
  end
  at = at + 2 * pairs
  if redis.call('GET', lease) == holder then redis.call('DEL', lease) end
end
return 1`);

/**
 * Dedup records and rate limits in Upstash Redis (or the bridge's Redis REST gateway), shared by
 * every isolate. `beginMany` and `finishMany` are one Lua script each, so a publish request costs
 * two Redis round trips whatever its batch size (one more, once, when Redis does not hold a
 * script yet: they are sent by SHA-1, see `RedisScript`). The scripts touch several keys, so the Redis
 * behind them must not be a Redis Cluster (Upstash and a standalone or Sentinel-managed Redis
 * behind the bridge are fine).
 *
 * Layout: hash `<prefix>:event:<sha256(key)>` with `destinations` (JSON), `first_seen_at`,
 * `complete` and one `d:<destination>` field per acknowledged destination (receipt JSON);
 * string `<prefix>:lease:<sha256(key)>` holding the lease holder, set NX with a PX expiry;
 * counter `<prefix>:ratelimit:<requests>/<window s>:<key id>:<window start ms>` per API key and
 * fixed window, kept two windows. Event keys are hashed because `source` and `id` are
 * caller-chosen and unbounded.
 *
 * Every call has a deadline (`timeoutMs`, the producer's `REDIS_TIMEOUT_MS`): a Redis that does
 * not answer fails the call with `upstream_unavailable`, and the producer publishes nothing it
 * could not record (dedup fails closed).
 */
export class RedisDedupStore implements DedupStore {
  readonly shared = true;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(redis: Redis, prefix = "edgebus:dedup", timeoutMs = 1000, now: () => number = Date.now) {
    this.redis = redis;
    this.prefix = prefix;
    this.timeoutMs = timeoutMs;
    this.now = now;
  }

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
    const hash = await hexDigest("SHA-256", key);
    return [`${this.prefix}:event:${hash}`, `${this.prefix}:lease:${hash}`];
  }

  async get(key: string): Promise<DeliveryRecord | null> {
    const [recordKey] = await this.#keys(key);
    const fields = await this.#call("get", () => this.redis.hgetall<Record<string, unknown>>(recordKey));
    return fields === null ? null : toRecord(fields);
  }

  async beginMany(items: readonly BeginItem[], options: BeginOptions): Promise<BeginManyResult> {
    const { admission } = options;
    if (items.length === 0 && admission === undefined) return { admitted: true, results: [] };
    const now = this.now();
    const windowMs = (admission?.limit.window_seconds ?? 1) * 1000;
    const windowStart = now - (now % windowMs);
    const counter = (start: number) =>
      admission === undefined
        ? `${this.prefix}:ratelimit:none`
        : `${this.prefix}:ratelimit:${admission.limit.requests}/${admission.limit.window_seconds}:${admission.keyId}:${start}`;
    const keys = [counter(windowStart), counter(windowStart - windowMs)];
    const args: (string | number)[] = [
      admission === undefined ? "0" : "1",
      admission?.limit.requests ?? 0,
      windowMs,
      now,
      admission?.cost ?? 0,
      options.leaseMs,
      options.firstSeenAt,
      DEDUP_WINDOW_SECONDS,
    ];
    for (const item of items) {
      keys.push(...(await this.#keys(item.key)));
      args.push(item.holder, JSON.stringify(item.plan));
    }
    const reply = await this.#call("begin", () => BEGIN_MANY_SCRIPT.run<unknown[][]>(this.redis, keys, args));
    const [admitted, ...perEvent] = reply;
    const decision =
      admission === undefined
        ? undefined
        : {
            allowed: admitted?.[0] === "admitted",
            remaining: Number(admitted?.[1] ?? 0),
            resetAt: windowStart + windowMs,
          };
    if (decision !== undefined && !decision.allowed) return { admitted: false, decision };
    if (perEvent.length !== items.length)
      throw unexpectedReply(`${perEvent.length} results for ${items.length} events`);
    const results = perEvent.map((flat, index) =>
      toBeginResult(flat, (items[index] as BeginItem).plan, options.firstSeenAt),
    );
    return decision === undefined ? { admitted: true, results } : { admitted: true, decision, results };
  }

  async finishMany(items: readonly FinishItem[]): Promise<void> {
    if (items.length === 0) return;
    const keys: string[] = [];
    const args: string[] = [];
    for (const { key, holder, delivered, complete } of items) {
      keys.push(...(await this.#keys(key)));
      const receipts = Object.entries(delivered);
      args.push(holder, complete ? "1" : "0", String(receipts.length));
      for (const [destination, receipt] of receipts) args.push(`d:${destination}`, JSON.stringify(receipt));
    }
    await this.#call("finish", () => FINISH_MANY_SCRIPT.run(this.redis, keys, args));
  }
}

function unexpectedReply(reply: string): EdgebusError {
  return new EdgebusError("upstream_unavailable", "dedup store (Redis) returned an unexpected reply", {
    details: { reply },
  });
}

/** One event's part of the begin reply → its result (`created` carries only what was just written). */
function toBeginResult(flat: unknown[], plan: readonly string[], firstSeenAt: string): BeginResult {
  const [kind, ...pairs] = flat;
  if (kind === "busy") return { kind: "busy" };
  if (kind === "created") {
    return {
      kind: "owned",
      created: true,
      record: { destinations: plan, delivered: {}, complete: false, firstSeenAt },
    };
  }
  const fields: Record<string, unknown> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) fields[String(pairs[i])] = pairs[i + 1];
  const record = toRecord(fields);
  if (record === null || (kind !== "complete" && kind !== "owned")) throw unexpectedReply(String(kind));
  return kind === "complete" ? { kind, record } : { kind, record, created: false };
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
