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
 * KEYS[1] stream, KEYS[2] marker; ARGV[1] marker TTL, ARGV[2] MAXLEN (0 = none), ARGV[3..] fields.
 * The marker check, the XADD and the marker write run as one script, so a redelivery either finds
 * the marker (reply {0, first entry id}) or adds the entry and sets the marker together.
 */
const APPEND_ONCE = `
local seen = redis.call('GET', KEYS[2])
if seen then return {0, seen} end
local id
if tonumber(ARGV[2]) > 0 then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
else
  id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
end
redis.call('SET', KEYS[2], id, 'EX', ARGV[1])
return {1, id}
`;

type AppendOnce = (
  stream: string,
  marker: string,
  ttl: number,
  maxLen: number,
  ...fields: (string | Buffer)[]
) => Promise<[number, string]>;

/**
 * Mirror into Redis Streams with ioredis: `XADD edgebus:<topic>` with the CloudEvents attributes
 * as fields (`bindings.ts`), approximate `MAXLEN`, and a `source`+`id` marker with a TTL written by
 * the same Lua script, so a redelivered event adds no second entry. One pipeline per batch in input
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
    this.#redis.defineCommand("edgebusAppendOnce", { numberOfKeys: 2, lua: APPEND_ONCE });
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
    const pipeline = this.#redis.pipeline();
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
      (pipeline as unknown as { edgebusAppendOnce: AppendOnce }).edgebusAppendOnce(
        `${this.#options.keyPrefix}${topic}`,
        `${this.#options.markerPrefix}${markerOf(event.source, event.id)}`,
        this.#options.dedupeTtlSeconds,
        this.#options.maxLen,
        ...fields,
      );
      queued.push(index);
    });
    if (queued.length > 0) {
      let replies: [Error | null, unknown][] | null;
      try {
        replies = await pipeline.exec();
      } catch (error) {
        replies = queued.map(() => [error as Error, null]);
      }
      queued.forEach((index, i) => {
        const [error, reply] = replies?.[i] ?? [new Error("no reply"), null];
        const topic = `${this.#options.keyPrefix}${deliveries[index]?.topic}`;
        if (error) {
          outcomes[index] = { ok: false, error: unavailable(this.name, `XADD failed: ${error.message}`, error) };
        } else {
          const [added, id] = reply as [number, string];
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
