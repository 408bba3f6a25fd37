import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger, withoutCredentials } from "#shared/log.ts";
import type { BindingMode } from "../cloud-event-binding.ts";
import type { TopicMapping } from "../topic-mapping.ts";
import { toStreamFields } from "./bindings.ts";
import {
  connectionProblems,
  type DeliveryOutcome,
  type MirrorDelivery,
  type MirrorTarget,
  unavailable,
} from "./mirror-target.ts";

const log = createLogger({ component: "mirror-redis-streams" });

export interface RedisStreamsTargetOptions {
  readonly name?: string;
  /** `redis://user:password@host:6379/0` (or `rediss://`). */
  readonly url: string;
  readonly mode: BindingMode;
  readonly mapping: TopicMapping;
  /** Stream key = prefix + topic: `edgebus:gov.auth.citizen`. */
  readonly keyPrefix: string;
  /** Prefix of the redelivery markers (one short-lived key per event). */
  readonly markerPrefix: string;
  /** `XADD … MAXLEN ~ n`: the stream is trimmed to about this many entries; 0 = never trimmed. */
  readonly maxLen: number;
  /** How long a marker remembers an event, so a redelivery adds nothing. */
  readonly dedupeTtlSeconds: number;
  /** Largest entry (all field bytes); larger events fail, not retryable. */
  readonly maxMessageBytes: number;
  readonly timeoutMs: number;
}

/**
 * A whole batch in one script call. Per event `i`: KEYS[2i-1] its stream, KEYS[2i] its marker;
 * ARGV[1] the marker TTL, ARGV[2] MAXLEN (0 = none), then per event its field count and fields.
 * For each event in order, the marker check, the XADD and the marker write run together, so a
 * redelivery either finds the marker (reply {0, first entry id}) or adds the entry and sets the
 * marker ({1, id}). Errors are caught per event ({-1, message}): one event's failure (a key of
 * the wrong type) fails that event alone, as separate calls would.
 */
const APPEND_BATCH = `
local ttl = ARGV[1]
local maxlen = tonumber(ARGV[2])
local replies = {}
local at = 3
for k = 1, #KEYS, 2 do
  local count = tonumber(ARGV[at])
  local first, last = at + 1, at + count
  at = last + 1
  local seen = redis.pcall('GET', KEYS[k + 1])
  if type(seen) == 'table' and seen.err then
    replies[#replies + 1] = {-1, seen.err}
  elseif seen then
    replies[#replies + 1] = {0, seen}
  else
    local id
    if maxlen > 0 then
      id = redis.pcall('XADD', KEYS[k], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, first, last))
    else
      id = redis.pcall('XADD', KEYS[k], '*', unpack(ARGV, first, last))
    end
    if type(id) == 'table' and id.err then
      replies[#replies + 1] = {-1, id.err}
    else
      local set = redis.pcall('SET', KEYS[k + 1], id, 'EX', ttl)
      if type(set) == 'table' and set.err then replies[#replies + 1] = {-1, set.err}
      else replies[#replies + 1] = {1, id} end
    end
  end
end
return replies
`;

type AppendBatch = (numberOfKeys: number, ...keysThenArgs: (string | number | Buffer)[]) => Promise<[number, string][]>;

/**
 * Mirror into Redis Streams with ioredis: `XADD edgebus:<topic>` with the CloudEvents attributes
 * as fields (`bindings.ts`), approximate `MAXLEN`, and a `source`+`id` marker with a TTL written by
 * the same Lua script, so a redelivered event adds no second entry. One script call per batch in input
 * order, so a topic's (stream's) entries keep their order; `ok` after the script's reply.
 *
 * Durability is the Redis server's: with `appendonly yes` and `appendfsync everysec` an acked entry
 * can be lost in the last second before a crash. Keys of one script must share a hash slot on Redis
 * Cluster, which these do not: use a single primary (with replicas / Sentinel).
 * Reconnects by itself (ioredis); while Redis is away, deliveries fail at once (retryable).
 */
export class RedisStreamsTarget implements MirrorTarget {
  readonly kind = "redis-streams" as const;
  readonly name: string;
  readonly mapping: TopicMapping;
  readonly #options: RedisStreamsTargetOptions;
  readonly #redis: Redis;

  constructor(options: RedisStreamsTargetOptions) {
    this.name = options.name ?? "redis-streams";
    this.mapping = options.mapping;
    this.#options = options;
    this.#redis = new Redis(options.url, {
      // Fail fast while Redis is away (the Worker retries the batch) instead of queueing commands.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.timeoutMs,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    // No fixed key count: the batch's size decides it (the first argument of each call).
    this.#redis.defineCommand("edgebusAppendBatch", { lua: APPEND_BATCH });
    const problems = connectionProblems(log, "Redis Streams", this.name, options.url);
    this.#redis.on("error", (error: Error) => problems.failed(error));
    this.#redis.on("ready", () => problems.connected());
  }

  get saturated(): boolean {
    return false;
  }

  get connected(): boolean {
    return this.#redis.status === "ready";
  }

  /** Waits up to `timeoutMs` for a connection that is being (re)established; false when there is none. */
  async #ready(): Promise<boolean> {
    if (this.#redis.status === "ready") return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#redis.off("ready", onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), this.#options.timeoutMs);
      this.#redis.on("ready", onReady);
    });
  }

  async deliver(deliveries: readonly MirrorDelivery[]): Promise<DeliveryOutcome[]> {
    if (!(await this.#ready())) {
      const failure = unavailable(this.name, `not connected to ${withoutCredentials(this.#options.url)}`);
      return deliveries.map(() => ({ ok: false as const, error: failure }));
    }
    const outcomes: (DeliveryOutcome | undefined)[] = new Array(deliveries.length);
    const keys: string[] = [];
    const args: (string | number | Buffer)[] = [this.#options.dedupeTtlSeconds, this.#options.maxLen];
    const queued: number[] = [];
    deliveries.forEach(({ event, topic }, index) => {
      const fields = toStreamFields(event, this.#options.mode);
      const bytes = fields.reduce((sum, f) => sum + (typeof f === "string" ? Buffer.byteLength(f) : f.byteLength), 0);
      if (bytes > this.#options.maxMessageBytes) {
        outcomes[index] = {
          ok: false,
          error: new EdgebusError(
            "payload_too_large",
            `mirror target ${this.name}: the entry is ${bytes} bytes, over maxMessageBytes ${this.#options.maxMessageBytes}`,
          ),
        };
        return;
      }
      keys.push(
        `${this.#options.keyPrefix}${topic}`,
        `${this.#options.markerPrefix}${markerOf(event.source, event.id)}`,
      );
      args.push(fields.length);
      for (const field of fields) args.push(field);
      queued.push(index);
    });
    if (queued.length > 0) {
      // One script call for the batch (one command for Redis to run instead of one per event),
      // in input order, so a topic's (stream's) entries keep their order.
      let replies: [number, string][] | undefined;
      let failure: Error | undefined;
      try {
        replies = await (this.#redis as unknown as { edgebusAppendBatch: AppendBatch }).edgebusAppendBatch(
          keys.length,
          ...keys,
          ...args,
        );
      } catch (error) {
        failure = error as Error;
      }
      queued.forEach((index, i) => {
        const reply = replies?.[i];
        const topic = `${this.#options.keyPrefix}${deliveries[index]?.topic}`;
        if (reply === undefined || reply[0] === -1) {
          const message = reply === undefined ? (failure?.message ?? "no reply") : String(reply[1]);
          outcomes[index] = { ok: false, error: unavailable(this.name, `XADD failed: ${message}`, failure) };
        } else {
          const [added, id] = reply;
          outcomes[index] = { ok: true, duplicate: added === 0, receipt: { topic, offset: String(id) } };
        }
      });
    }
    return outcomes as DeliveryOutcome[];
  }

  async probe(): Promise<void> {
    await this.#redis.ping();
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

/** The marker of one event (its `source` and `id`): fixed length whatever they hold. */
export function markerOf(source: string, id: string): string {
  return createHash("sha256").update(source).update("\u0000").update(id).digest("hex");
}
