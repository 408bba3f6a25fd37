import net from "node:net";
import tls from "node:tls";
import type { Redis } from "ioredis";
import { createLogger, errorLogFields } from "#shared/log.ts";
import type { RedisArg } from "./command-body.ts";
import { encodeCommands, RedisReplyError, RespParser, type RespReply } from "./resp-codec.ts";

const log = createLogger({ component: "redis-rest" });

/** Where and as whom to connect: the fields of ioredis's options the gateway's URL sets. */
export interface RespConnectionOptions {
  readonly host?: string;
  readonly port?: number;
  /** A Unix socket instead of host and port. */
  readonly path?: string;
  readonly family?: number;
  /** `rediss://`: TLS options as ioredis took them from the URL or the caller. */
  readonly tls?: tls.ConnectionOptions;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
  /** How long a connection attempt, AUTH and SELECT included, may take (10 s by default). */
  readonly connectTimeoutMs?: number;
}

/** A transport failure: the connection closed, or could not be opened, before the replies came. */
export class RespConnectionError extends Error {
  override readonly name = "RespConnectionError";
}

type State = "idle" | "connecting" | "ready" | "closed";

/** One `send`: how many replies it waits for, those read so far, and who gets them. */
interface Exchange {
  readonly count: number;
  readonly replies: RespReply[];
  readonly resolve: (replies: RespReply[]) => void;
  readonly reject: (error: Error) => void;
}

const RECONNECT_DELAYS_MS = [50, 100, 200, 500, 1000, 2000];

/**
 * One Redis connection for pipelines, written for the REST gateway's hot path: a pipeline is one
 * encoded write and one promise for all its replies, where a general client makes a command
 * object, a promise and a reply callback per command.
 *
 * Guarantees:
 * - replies come back in the order the commands were sent, each pipeline's as one array, error
 *   replies in place as `RedisReplyError`;
 * - the pipelines sent in one event-loop turn leave in one socket write, in the order sent;
 * - a pipeline sent while the connection is opening waits for AUTH and SELECT to succeed, then
 *   leaves; when opening fails, it rejects with `RespConnectionError`;
 * - when the connection drops, every pipeline still waiting rejects with `RespConnectionError`
 *   (none is sent again: Redis may have run it), and the next `send`, or a timer backing off from
 *   50 ms to 2 s, opens a new one; one warning is logged per outage;
 * - a caller that stops waiting (a deadline) leaves its pipeline queued: its late replies are read
 *   and dropped, so they are never handed to the pipelines behind it;
 * - the connection runs nothing but AUTH, SELECT and what it is given (no ready check, no client
 *   info), so a restricted ACL user is enough.
 */
export class RespConnection {
  readonly #options: RespConnectionOptions;
  #state: State = "idle";
  #socket: net.Socket | undefined;
  /** Exchanges written and not yet answered, oldest first from `#head`. */
  #inFlight: Exchange[] = [];
  #head = 0;
  /** Encoded pipelines waiting for the end of this turn, or for the connection to be ready. */
  #waiting: { readonly payload: string | Buffer; readonly exchange: Exchange }[] = [];
  #flushScheduled = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #down = false;
  #writes = 0;

  constructor(options: RespConnectionOptions) {
    this.#options = options;
  }

  /** Socket writes made so far, the handshakes included: the round trips to Redis. */
  get writes(): number {
    return this.#writes;
  }

  /** Sends `commands` as one pipeline; resolves with one reply per command, in order. */
  send(commands: readonly (readonly RedisArg[])[]): Promise<RespReply[]> {
    if (this.#state === "closed") return Promise.reject(new RespConnectionError("Connection is closed."));
    if (commands.length === 0) return Promise.resolve([]);
    const payload = encodeCommands(commands);
    return new Promise<RespReply[]>((resolve, reject) => {
      this.#waiting.push({ payload, exchange: { count: commands.length, replies: [], resolve, reject } });
      if (this.#state === "ready") this.#scheduleFlush();
      else if (this.#state === "idle") this.#connect();
    });
  }

  /** Closes the connection; whatever is still waiting rejects. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#reconnectTimer);
    const socket = this.#socket;
    this.#failAll(new RespConnectionError("Connection is closed."));
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (this.#state === "ready") this.#flush();
    });
  }

  /** Writes every waiting pipeline in one write and moves their exchanges in flight. */
  #flush(): void {
    const socket = this.#socket;
    const waiting = this.#waiting;
    if (socket === undefined || waiting.length === 0) return;
    this.#waiting = [];
    const payloads = waiting.map(({ payload, exchange }) => {
      this.#inFlight.push(exchange);
      return payload;
    });
    this.#writes++;
    if (payloads.length === 1) {
      socket.write(payloads[0] as string | Buffer);
    } else if (payloads.every((part) => typeof part === "string")) {
      socket.write(payloads.join(""));
    } else {
      socket.write(Buffer.concat(payloads.map((part) => (typeof part === "string" ? Buffer.from(part) : part))));
    }
  }

  #connect(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#state = "connecting";
    const options = this.#options;
    const socket = options.tls
      ? tls.connect({
          ...options.tls,
          ...(options.path === undefined
            ? { host: options.host ?? "127.0.0.1", port: options.port ?? 6379 }
            : { path: options.path }),
          ...(options.tls.servername === undefined && options.host !== undefined && !net.isIP(options.host)
            ? { servername: options.host }
            : {}),
        })
      : options.path === undefined
        ? net.connect({
            host: options.host ?? "127.0.0.1",
            port: options.port ?? 6379,
            ...(options.family === undefined ? {} : { family: options.family }),
          })
        : net.connect({ path: options.path });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const parser = new RespParser((reply) => this.#onReply(reply));
    const timeout = setTimeout(
      () => socket.destroy(new RespConnectionError("Connection timed out while connecting")),
      options.connectTimeoutMs ?? 10_000,
    );
    timeout.unref();
    let failure: Error | undefined;
    socket.on("data", (chunk: Buffer) => {
      try {
        parser.feed(chunk);
      } catch (error) {
        socket.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on("error", (error) => {
      failure = error;
    });
    socket.on("close", () => {
      clearTimeout(timeout);
      if (this.#socket === socket) this.#onClosed(failure);
    });
    socket.once(options.tls ? "secureConnect" : "connect", () => {
      const handshake: RedisArg[][] = [];
      if (options.password !== undefined && options.password !== "") {
        handshake.push(options.username ? ["AUTH", options.username, options.password] : ["AUTH", options.password]);
      }
      if (options.db !== undefined && options.db !== 0) handshake.push(["SELECT", String(options.db)]);
      const ready = () => {
        clearTimeout(timeout);
        if (this.#socket !== socket || this.#state !== "connecting") return;
        this.#state = "ready";
        this.#failures = 0;
        if (this.#down) log.log("info", "Redis connection of the REST gateway's pipelines is back");
        this.#down = false;
        this.#flush();
      };
      if (handshake.length === 0) {
        ready();
        return;
      }
      this.#inFlight.push({
        count: handshake.length,
        replies: [],
        resolve: (replies) => {
          const refused = replies.find((reply) => reply instanceof RedisReplyError);
          if (refused) socket.destroy(new RespConnectionError(`Redis refused the connection: ${refused.message}`));
          else ready();
        },
        reject: () => undefined,
      });
      this.#writes++;
      socket.write(encodeCommands(handshake));
    });
  }

  #onReply(reply: RespReply): void {
    const exchange = this.#inFlight[this.#head];
    if (exchange === undefined) {
      // Redis never answers what was not asked; the pairing is lost, so start again.
      this.#socket?.destroy(new RespConnectionError("a reply nobody asked for"));
      return;
    }
    exchange.replies.push(reply);
    if (exchange.replies.length < exchange.count) return;
    this.#inFlight[this.#head] = undefined as unknown as Exchange;
    this.#head++;
    if (this.#head === this.#inFlight.length) {
      this.#inFlight = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#inFlight.length) {
      this.#inFlight = this.#inFlight.slice(this.#head);
      this.#head = 0;
    }
    exchange.resolve(exchange.replies);
  }

  #onClosed(failure: Error | undefined): void {
    this.#socket = undefined;
    if (this.#state === "closed") return;
    const wasReady = this.#state === "ready";
    this.#state = "idle";
    const reason = failure?.message ?? "Connection is closed.";
    if (!this.#down) {
      this.#down = true;
      log.log(
        "warn",
        "Redis connection of the REST gateway's pipelines failed; answering 503 until it is back",
        failure ? errorLogFields(failure) : {},
      );
    }
    // What was written may have run; what was waiting for the connection never left.
    this.#failAll(new RespConnectionError(wasReady ? reason : `could not connect to Redis: ${reason}`));
    const delay = RECONNECT_DELAYS_MS[Math.min(this.#failures, RECONNECT_DELAYS_MS.length - 1)] as number;
    this.#failures++;
    this.#reconnectTimer = setTimeout(() => {
      if (this.#state === "idle") this.#connect();
    }, delay);
    this.#reconnectTimer.unref();
  }

  #failAll(error: Error): void {
    const exchanges = [...this.#inFlight.slice(this.#head), ...this.#waiting.map(({ exchange }) => exchange)];
    this.#inFlight = [];
    this.#head = 0;
    this.#waiting = [];
    for (const exchange of exchanges) exchange.reject(error);
  }
}

/** Options to connect as `redis` does: same server, TLS, user, password and database. */
export function respOptionsLike(redis: Redis): RespConnectionOptions {
  const options = redis.options;
  return {
    ...(options.path ? { path: options.path } : { host: options.host, port: options.port }),
    ...(options.family ? { family: options.family } : {}),
    // A `rediss://` URL alone leaves `tls: true`; options given beside it are an object.
    ...(options.tls ? { tls: typeof options.tls === "object" ? options.tls : {} } : {}),
    // ioredis leaves the fields a URL does not set as null or undefined.
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
    db: Number(options.db ?? 0),
    ...(options.connectTimeout === undefined ? {} : { connectTimeoutMs: options.connectTimeout }),
  };
}
