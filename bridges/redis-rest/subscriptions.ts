import type { ServerResponse } from "node:http";
import type { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger } from "#shared/log.ts";
import { duplicateWithTimeout } from "./command-deadline.ts";

const log = createLogger({ component: "redis-rest" });

export interface SubscriptionLimits {
  /** Streams open at once (each holds one Redis connection); one more is refused with 503. */
  readonly maxStreams: number;
  /** Channels or patterns one stream may name. */
  readonly maxChannelsPerStream: number;
  /** Bytes waiting for one slow client before its stream is ended. */
  readonly maxBufferedBytes: number;
  /** An SSE comment this often (ms), so idle streams survive proxies' read timeouts. */
  readonly heartbeatMs: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = {
  maxStreams: 256,
  maxChannelsPerStream: 16,
  maxBufferedBytes: 1_048_576,
  heartbeatMs: 15_000,
};

export type SubscriptionKind = "subscribe" | "psubscribe";

/**
 * Redis pub/sub over Server-Sent Events, as Upstash serves `POST /subscribe/{channel}` and
 * `/psubscribe/{pattern}` and as `@upstash/redis`'s `subscribe()`/`psubscribe()` read them: one
 * `data: ` line per event, comma-separated —
 * `data: subscribe,<channel>,<count>`, `data: message,<channel>,<message>`,
 * `data: psubscribe,<pattern>,<count>`, `data: pmessage,<pattern>,<channel>,<message>`.
 *
 * Each stream gets a Redis connection of its own (a duplicate of the gateway's, so the same ACL
 * user and its `&pattern` channel rules): Redis counts every stream as a subscriber, so `PUBLISH`
 * reports how many streams received the message, exactly as it does for TCP clients.
 *
 * Bounds: at most `maxStreams` streams (503 + Retry-After past it), `maxChannelsPerStream`
 * channels each (400), and at most `maxBufferedBytes` waiting for a client that does not read
 * (the stream is ended, its connection closed). Memory is therefore at most
 * `maxStreams × maxBufferedBytes` plus one Redis connection per stream. When the client goes
 * away the Redis connection is closed at once.
 *
 * Messages are written as Redis has them (UTF-8 text), never base64 (the client does not decode
 * stream lines). A message with line breaks continues on further `data:` lines, as SSE frames
 * multi-line data; `@upstash/redis` sees only the first line of such a message.
 */
export class RedisSubscriptions {
  readonly #redis: Redis;
  readonly #limits: SubscriptionLimits;
  readonly #open = new Set<SubscriptionStream>();

  constructor(redis: Redis, limits: Partial<SubscriptionLimits> = {}) {
    this.#redis = redis;
    this.#limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...limits };
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Subscribes, then answers 200 with the event stream on `res`. Rejects (nothing written) when
   * the channels are refused: `bad_request` with Redis's NOPERM text for channels outside the ACL
   * user's patterns, `upstream_unavailable` when Redis does not answer or the bridge is full.
   */
  async open(res: ServerResponse, kind: SubscriptionKind, channels: readonly string[]): Promise<void> {
    if (channels.length === 0) {
      throw new EdgebusError("bad_request", `ERR wrong number of arguments for '${kind}' command`);
    }
    if (channels.length > this.#limits.maxChannelsPerStream) {
      throw new EdgebusError(
        "bad_request",
        `ERR at most ${this.#limits.maxChannelsPerStream} channels per ${kind} stream; open another stream`,
      );
    }
    const full = () =>
      new EdgebusError(
        "upstream_unavailable",
        `ERR this bridge serves at most ${this.#limits.maxStreams} subscription streams at once; retry shortly`,
        { retryAfterSeconds: 5 },
      );
    if (this.#open.size >= this.#limits.maxStreams) throw full();
    const stream = new SubscriptionStream(
      duplicateWithTimeout(this.#redis),
      res,
      kind,
      channels,
      this.#limits,
      this.#open,
    );
    // Counted from now: subscribing waits for Redis, and a burst must not overshoot the cap.
    this.#open.add(stream);
    await stream.start();
  }

  /** Ends every stream (bridge shutdown: an open response would hold the server open). */
  closeAll(): void {
    for (const stream of [...this.#open]) stream.close("shutdown");
  }
}

type CloseReason = "client" | "slow_consumer" | "redis" | "shutdown" | "refused";

class SubscriptionStream {
  readonly #connection: Redis;
  readonly #res: ServerResponse;
  readonly #kind: SubscriptionKind;
  readonly #channels: readonly string[];
  readonly #limits: SubscriptionLimits;
  readonly #open: Set<SubscriptionStream>;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    connection: Redis,
    res: ServerResponse,
    kind: SubscriptionKind,
    channels: readonly string[],
    limits: SubscriptionLimits,
    open: Set<SubscriptionStream>,
  ) {
    this.#connection = connection;
    this.#res = res;
    this.#kind = kind;
    this.#channels = channels;
    this.#limits = limits;
    this.#open = open;
  }

  async start(): Promise<void> {
    const connection = this.#connection;
    // Transport errors end the stream below ("end"); without a listener ioredis would print them.
    connection.on("error", () => undefined);
    // The client may leave while Redis is still answering the subscribe.
    this.#res.on("close", () => this.close("client"));
    let count: number;
    try {
      count = Number(
        this.#kind === "subscribe"
          ? await connection.subscribe(...this.#channels)
          : await connection.psubscribe(...this.#channels),
      );
    } catch (error) {
      this.close("refused");
      if (error instanceof Error && error.name === "ReplyError") throw new EdgebusError("bad_request", error.message);
      const reason = error instanceof Error ? error.message : String(error);
      throw new EdgebusError("upstream_unavailable", `ERR redis is unavailable: ${reason}`, { cause: error });
    }
    if (this.#closed) return;
    const res = this.#res;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // nginx would otherwise buffer the stream.
      "x-accel-buffering": "no",
    });
    // Redis confirms each channel with the running count; the client reads one line per channel.
    const first = count - this.#channels.length + 1;
    for (const [i, channel] of this.#channels.entries()) this.#write(`${this.#kind},${channel},${first + i}`);
    if (this.#kind === "subscribe") {
      connection.on("message", (channel: string, message: string) => this.#write(`message,${channel},${message}`));
    } else {
      connection.on("pmessage", (pattern: string, channel: string, message: string) =>
        this.#write(`pmessage,${pattern},${channel},${message}`),
      );
    }
    // ioredis resubscribes after a reconnect; when it gives up, the stream ends.
    connection.on("end", () => this.close("redis"));
    this.#heartbeat = setInterval(() => {
      if (!this.#closed) res.write(": keepalive\n\n");
    }, this.#limits.heartbeatMs);
    this.#heartbeat.unref();
  }

  #write(data: string): void {
    if (this.#closed) return;
    const lines = data.split(/\r\n|\r|\n/);
    this.#res.write(`${lines.map((line) => `data: ${line}`).join("\n")}\n\n`);
    if (this.#res.writableLength > this.#limits.maxBufferedBytes) {
      log.log("warn", "ended a Redis subscription stream whose client does not read", {
        note: `${this.#kind}: more than ${this.#limits.maxBufferedBytes} bytes were waiting for the client`,
        count: this.#res.writableLength,
      });
      this.close("slow_consumer");
    }
  }

  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#open.delete(this);
    this.#connection.disconnect();
    const res = this.#res;
    if (reason === "refused" || !res.headersSent) return;
    if (reason === "redis") log.log("warn", "a Redis subscription stream ended: Redis is unavailable", {});
    if (!res.writableEnded && !res.destroyed) res.end();
    if (reason === "slow_consumer" || reason === "shutdown") {
      // A client that does not read never lets the end through.
      const socket = res.socket;
      if (socket) setTimeout(() => socket.destroy(), 1000).unref();
    }
  }
}
