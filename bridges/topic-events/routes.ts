import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { type HttpBindings, upgradeWebSocket, type WebSocketLike } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError, errorBody, toEdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { globMatcher } from "../glob.ts";
import type { PartitionBounds, PartitionTail, TailPosition, TailRecord } from "../kafka/partition-tail.ts";
import { assertTopicName } from "../kafka/topic-admin.ts";
import { basicAuth, type KafkaRestLogins, type KafkaRestVariables, SCOPE } from "../kafka-rest/basic-auth.ts";
import { fromKafkaRecord } from "../mirror/cloud-event-binding.ts";
import { formatEventId, formatPositionId, parseEventId, startCursors } from "./positions.ts";
import type { StreamHub, StreamRecord, StreamSubscriber } from "./stream-hub.ts";

const log = createLogger({ component: "topic-events" });

export interface TopicEventsLimits {
  /** Largest `limit` of `GET /v1/topics/{topic}/events` (the default is 20, or this when lower). */
  readonly maxLimit: number;
  /** Bytes of events in one `/events` answer (JSON); the oldest are left out past it. */
  readonly maxResponseBytes: number;
  /** Streams (SSE and WebSocket together) open at once; 503 past it. */
  readonly maxStreams: number;
  /** An SSE comment or a WebSocket ping this often (ms). */
  readonly heartbeatMs: number;
  /** Bytes a stream may have waiting for its client; past it the client is dropped. */
  readonly maxBufferedBytes: number;
  /** How long a dropped or closed stream's socket may take to flush before it is destroyed (ms). */
  readonly closeGraceMs: number;
}

export type StreamProtocol = "sse" | "ws";
export type CloseReason = "client" | "slow_consumer" | "heartbeat_timeout" | "kafka" | "shutdown" | "over_capacity";

export interface TopicEventsDeps {
  /** Reads for `/events` and stream start positions (its own connections, see PartitionTail). */
  readonly lookup: PartitionTail;
  readonly hub: StreamHub;
  /** The Kafka REST logins: a login may read a topic here when its `fetch` patterns cover it. */
  readonly credentials: KafkaRestLogins;
  readonly limits: TopicEventsLimits;
  readonly onStreamOpened?: (protocol: StreamProtocol) => void;
  readonly onStreamClosed?: (protocol: StreamProtocol, reason: CloseReason) => void;
}

export interface TopicEvents {
  readonly app: Hono;
  /** Streams open now. */
  readonly openStreams: () => number;
  /** Ends every stream (SSE: the response ends; WebSocket: close 1001), for shutdown. */
  closeAll(): void;
}

const DEFAULT_LIMIT = 20;

type Env = { Bindings: HttpBindings; Variables: KafkaRestVariables };

/**
 * `GET /v1/topics/{topic}/events` (the newest events of a topic as structured CloudEvents) and
 * `GET /v1/topics/{topic}/stream` (new events as they arrive: Server-Sent Events with
 * `Accept: text/event-stream`, or a WebSocket upgrade), for a Kafka REST login whose `fetch`
 * patterns cover the topic (Basic auth, 401 / 403). Documented in bridges/README.md.
 */
export function createTopicEvents(deps: TopicEventsDeps): TopicEvents {
  const { limits } = deps;
  const open = new Set<TopicStream>();
  const app = new Hono<Env>();
  app.onError((error, c) => renderError(c, error));
  app.use("/v1/topics/*", basicAuth(deps.credentials));

  const readableTopic = (c: Context<Env>): string => {
    const topic = c.req.param("topic") as string;
    assertTopicName(topic);
    c.get(SCOPE).requireFetch([topic]);
    return topic;
  };

  app.get("/v1/topics/:topic/events", async (c) => {
    const topic = readableTopic(c);
    const limit =
      integerParam(c.req.query("limit"), "limit", 1, limits.maxLimit) ?? Math.min(DEFAULT_LIMIT, limits.maxLimit);
    const partition = integerParam(c.req.query("partition"), "partition", 0, 1_000_000);
    const fromOffset = integerParam(c.req.query("from_offset"), "from_offset", 0, Number.MAX_SAFE_INTEGER);
    if (fromOffset !== undefined && partition === undefined) {
      throw new EdgebusError("bad_request", "from_offset needs partition (offsets are per partition)");
    }
    const bounds = await deps.lookup.bounds(topic);
    if (partition !== undefined && !bounds[partition]) {
      throw new EdgebusError("not_found", `topic ${topic} has no partition ${partition}`, {
        details: { partitions: bounds.length },
      });
    }
    return c.json(await readEvents(deps.lookup, topic, bounds, { limit, partition, fromOffset }, limits));
  });

  app.get("/v1/topics/:topic/stream", async (c) => {
    const topic = readableTopic(c);
    const websocket = c.req.header("upgrade")?.toLowerCase() === "websocket";
    if (!websocket && !(c.req.header("accept") ?? "").includes("text/event-stream")) {
      throw new EdgebusError("bad_request", "ask for Accept: text/event-stream, or upgrade to a WebSocket");
    }
    const overCapacity = () =>
      new EdgebusError("upstream_unavailable", `the bridge serves at most ${limits.maxStreams} streams at once`, {
        retryAfterSeconds: 5,
      });
    if (open.size >= limits.maxStreams) throw overCapacity();
    const matches = filterOf(c.req.queries("type") ?? [], c.req.queries("source") ?? []);
    const partition = integerParam(c.req.query("partition"), "partition", 0, 1_000_000);
    const lastEventId = websocket
      ? c.req.query("last_event_id")
      : (c.req.header("last-event-id") ?? c.req.query("last_event_id"));
    const resume = lastEventId ? parseEventId(lastEventId) : undefined;
    const bounds = await deps.lookup.bounds(topic);
    if (partition !== undefined && !bounds[partition]) {
      throw new EdgebusError("not_found", `topic ${topic} has no partition ${partition}`);
    }
    const follow = partition !== undefined ? [partition] : bounds.map((b) => b.partition);
    const cursors = startCursors(bounds, follow, resume);
    const settings = { topic, cursors, matches, limits, hub: deps.hub, open, deps };

    if (websocket) {
      return upgradeWebSocket(c, {
        onOpen: (_event, ws) => {
          const stream = new WebSocketStream(ws.raw as WebSocketLike & WsExtras, settings);
          if (open.size >= limits.maxStreams) {
            stream.close("over_capacity");
            return;
          }
          stream.start();
        },
      });
    }
    if (open.size >= limits.maxStreams) throw overCapacity();
    const res = c.env.outgoing;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    });
    new SseStream(res, settings).start();
    return RESPONSE_ALREADY_SENT;
  });

  return {
    app: app as unknown as Hono,
    openStreams: () => open.size,
    closeAll() {
      for (const stream of [...open]) stream.close("shutdown");
    },
  };
}

// ---- the latest events ---------------------------------------------------------------------------

interface EventEntry {
  partition: number;
  offset: number;
  /** Kafka record time, ms since the epoch. */
  timestamp: number;
  key: string;
  /** The record as a structured CloudEvent; absent when it is not one (`error` says why). */
  event?: CloudEventRecord;
  error?: string;
}

function entryOf(record: TailRecord): EventEntry {
  const decoded = fromKafkaRecord(record);
  const base = { partition: record.partition, offset: record.offset, timestamp: record.timestamp, key: record.key };
  return decoded.ok ? { ...base, event: decoded.event } : { ...base, error: decoded.reason };
}

/**
 * The newest `limit` records of the topic (or of one partition), oldest first; with `fromOffset`,
 * the `limit` records of that partition from that offset on, and `next_offset` to continue. At
 * most `maxResponseBytes` of JSON: past it the oldest (newest with `fromOffset`) are left out and
 * `truncated` is true; one event is always returned.
 */
async function readEvents(
  lookup: PartitionTail,
  topic: string,
  bounds: readonly PartitionBounds[],
  query: { limit: number; partition: number | undefined; fromOffset: number | undefined },
  limits: TopicEventsLimits,
): Promise<{ topic: string; events: EventEntry[]; truncated: boolean; next_offset?: number }> {
  const partitions = query.partition !== undefined ? [bounds[query.partition] as PartitionBounds] : [...bounds];
  const ranges = partitions.map((b) => {
    const from =
      query.fromOffset !== undefined ? Math.max(query.fromOffset, b.start) : Math.max(b.start, b.end - query.limit);
    return { partition: b.partition, from, to: Math.min(b.end, from + query.limit) };
  });
  const share = Math.max(
    64 * 1024,
    Math.min(1_048_576, Math.floor(limits.maxResponseBytes / Math.max(1, ranges.length))),
  );
  let records: TailRecord[] = [];
  let held = 0;
  let pending: (TailPosition & { to: number })[] = ranges
    .filter((r) => r.from < r.to)
    .map((r) => ({ topic, partition: r.partition, offset: r.from, to: r.to }));
  for (let round = 0; pending.length > 0 && round < 50; round++) {
    const results = await lookup.fetch(pending, { maxWaitMs: 0, partitionMaxBytes: share });
    const next: typeof pending = [];
    results.forEach((result, i) => {
      const position = pending[i] as TailPosition & { to: number };
      if (result.error) throw result.error;
      for (const record of result.records) {
        if (record.offset >= position.to) continue;
        records.push(record);
        held += recordSize(record);
      }
      if (result.nextOffset < position.to && result.nextOffset > position.offset) {
        next.push({ ...position, offset: result.nextOffset });
      }
    });
    pending = next;
    // What is held stays near the answer's cap, however many partitions and however large their records.
    if (held > limits.maxResponseBytes) {
      if (query.fromOffset !== undefined) break; // the rest would be cut from the answer anyway
      // The oldest go: what is newer than them already fills an answer, and later reads add only newer records.
      records.sort(byTime);
      let drop = 0;
      while (drop < records.length - 1 && held - recordSize(records[drop] as TailRecord) >= limits.maxResponseBytes) {
        held -= recordSize(records[drop] as TailRecord);
        drop++;
      }
      records = records.slice(drop);
    }
  }
  records.sort(byTime);
  const chosen = query.fromOffset !== undefined ? records.slice(0, query.limit) : records.slice(-query.limit);
  const entries = chosen.map(entryOf);
  // Within the byte cap, keeping the newest (latest view) or the first (paging from an offset).
  const kept: EventEntry[] = [];
  let bytes = 0;
  const ordered = query.fromOffset !== undefined ? entries : [...entries].reverse();
  for (const entry of ordered) {
    bytes += Buffer.byteLength(JSON.stringify(entry));
    if (bytes > limits.maxResponseBytes && kept.length > 0) break;
    kept.push(entry);
  }
  const events = query.fromOffset !== undefined ? kept : kept.reverse();
  const truncated = kept.length < entries.length;
  if (query.fromOffset === undefined) return { topic, events, truncated };
  const last = events.at(-1);
  return { topic, events, truncated, next_offset: last ? last.offset + 1 : (ranges[0]?.from ?? query.fromOffset) };
}

function byTime(a: TailRecord, b: TailRecord): number {
  return a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset;
}

/** Bytes a record holds (key, value, headers), near what its entry takes in the answer. */
function recordSize(record: TailRecord): number {
  let bytes = Buffer.byteLength(record.key) + record.value.byteLength;
  for (const header of record.headers) bytes += header.key.length + header.value.length;
  return bytes;
}

// ---- streams -------------------------------------------------------------------------------------

interface StreamSettings {
  readonly topic: string;
  readonly cursors: Map<number, number>;
  readonly matches: (event: CloudEventRecord) => boolean;
  readonly limits: TopicEventsLimits;
  readonly hub: StreamHub;
  readonly open: Set<TopicStream>;
  readonly deps: TopicEventsDeps;
}

/** One client's stream: filtered delivery, heartbeats, bounded buffering, one close. */
abstract class TopicStream implements StreamSubscriber {
  readonly topic: string;
  readonly cursors: Map<number, number>;
  abstract readonly protocol: StreamProtocol;
  protected readonly settings: StreamSettings;
  #closed = false;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(settings: StreamSettings) {
    this.settings = settings;
    this.topic = settings.topic;
    this.cursors = settings.cursors;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    this.settings.open.add(this);
    this.settings.deps.onStreamOpened?.(this.protocol);
    this.opened();
    this.#heartbeat = setInterval(() => this.heartbeat(), this.settings.limits.heartbeatMs);
    this.#heartbeat.unref();
    this.settings.hub.add(this);
  }

  deliver(record: StreamRecord): void {
    const decoded = record.decoded;
    if (!decoded.ok || !this.settings.matches(decoded.event)) return;
    this.send(record);
    const buffered = this.buffered();
    if (buffered > this.settings.limits.maxBufferedBytes) {
      this.close(
        "slow_consumer",
        `dropped: ${buffered} bytes were waiting for this client (more than ${this.settings.limits.maxBufferedBytes}); reconnect with the last event id`,
      );
    }
  }

  fail(error: EdgebusError): void {
    this.close("kafka", error.message);
  }

  /** Ends the stream once, telling the client why where the protocol can. */
  close(reason: CloseReason, message?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.settings.hub.remove(this);
    const wasOpen = this.settings.open.delete(this);
    if (wasOpen) this.settings.deps.onStreamClosed?.(this.protocol, reason);
    this.end(reason, message);
  }

  protected abstract opened(): void;
  protected abstract send(record: StreamRecord): void;
  protected abstract heartbeat(): void;
  /** Bytes waiting for the client (ours and the socket's). */
  protected abstract buffered(): number;
  protected abstract end(reason: CloseReason, message: string | undefined): void;
}

class SseStream extends TopicStream {
  readonly protocol = "sse" as const;
  readonly #res: ServerResponse;
  #sentPosition = "";

  constructor(res: ServerResponse, settings: StreamSettings) {
    super(settings);
    this.#res = res;
    res.on("close", () => this.close("client"));
    res.on("error", () => this.close("client"));
  }

  protected opened(): void {
    // The starting position as the first id: a client that reconnects before any event misses nothing either.
    this.#sentPosition = formatPositionId(this.cursors);
    this.#res.write(`: ${this.topic}\nretry: 2000\nid: ${this.#sentPosition}\n\n`);
  }

  protected send(record: StreamRecord): void {
    this.#sentPosition = formatPositionId(this.cursors);
    const id = formatEventId(record.record.partition, this.cursors);
    this.#res.write(`id: ${id}\ndata: ${record.json}\n\n`);
  }

  protected heartbeat(): void {
    // Records the filter skipped moved the cursors: an id-only block moves the client's Last-Event-ID too.
    const position = formatPositionId(this.cursors);
    const moved = position !== this.#sentPosition;
    this.#sentPosition = position;
    this.#res.write(moved ? `: heartbeat\nid: ${position}\n\n` : ": heartbeat\n\n");
  }

  protected buffered(): number {
    return this.#res.writableLength;
  }

  protected end(reason: CloseReason, message: string | undefined): void {
    const res = this.#res;
    if (res.writableEnded || res.destroyed) return;
    if (reason !== "client" && reason !== "shutdown") {
      res.write(`event: error\ndata: ${JSON.stringify({ code: reason, message: message ?? reason })}\n\n`);
    }
    res.end();
    // A client that does not read never lets the end through: its socket goes after the grace time.
    const socket = res.socket;
    if (socket) setTimeout(() => socket.destroy(), this.settings.limits.closeGraceMs).unref();
  }
}

interface WsExtras {
  readonly bufferedAmount: number;
  ping(): void;
  terminate(): void;
  on(event: "pong", listener: () => void): unknown;
}

class WebSocketStream extends TopicStream {
  readonly protocol = "ws" as const;
  readonly #ws: WebSocketLike & WsExtras;
  #awaitingPong = false;

  constructor(ws: WebSocketLike & WsExtras, settings: StreamSettings) {
    super(settings);
    this.#ws = ws;
    ws.on("close", () => this.close("client"));
    ws.on("error", () => this.close("client"));
    ws.on("pong", () => {
      this.#awaitingPong = false;
    });
  }

  protected opened(): void {}

  protected send(record: StreamRecord): void {
    const { partition, offset } = record.record;
    const id = formatEventId(partition, this.cursors);
    this.#ws.send(
      `{"id":${JSON.stringify(id)},"topic":${JSON.stringify(this.topic)},"partition":${partition},"offset":${offset},"event":${record.json}}`,
    );
  }

  protected heartbeat(): void {
    if (this.#awaitingPong) {
      this.close("heartbeat_timeout");
      return;
    }
    this.#awaitingPong = true;
    this.#ws.ping();
  }

  protected buffered(): number {
    return this.#ws.bufferedAmount;
  }

  protected end(reason: CloseReason, message: string | undefined): void {
    const ws = this.#ws;
    if (reason === "heartbeat_timeout") {
      ws.terminate();
      return;
    }
    if (ws.readyState === 2 || ws.readyState === 3) return;
    const [code, text] =
      reason === "slow_consumer"
        ? [1008, "slow consumer: too many bytes waiting, reconnect with last_event_id"]
        : reason === "over_capacity"
          ? [1013, "too many streams, try again later"]
          : reason === "shutdown"
            ? [1001, "bridge shutting down"]
            : reason === "kafka"
              ? [1011, (message ?? "Kafka failed").slice(0, 120)]
              : [1000, "closed"];
    ws.close(code, text);
    setTimeout(() => ws.terminate(), this.settings.limits.closeGraceMs).unref();
  }
}

// ---- helpers -------------------------------------------------------------------------------------

/** `type` and `source` globs (`*` = any run of characters); several values of one are alternatives. */
export function filterOf(types: readonly string[], sources: readonly string[]): (event: CloudEventRecord) => boolean {
  const type = types.length > 0 ? globMatcher(types) : () => true;
  const source = sources.length > 0 ? globMatcher(sources) : () => true;
  return (event) => type(event.type) && source(event.source);
}

function integerParam(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new EdgebusError("bad_request", `${name} must be an integer from ${min} to ${max}`, {
      details: { [name]: raw.slice(0, 40) },
    });
  }
  return Number(raw);
}

function renderError(c: Context, error: unknown): Response {
  const failure = toEdgebusError(error);
  if (failure.code === "internal") log.log("error", "internal error", { path: c.req.path, ...errorLogFields(error) });
  const requestId = c.req.header("x-request-id") ?? randomUUID();
  if (failure.retryAfterSeconds !== undefined) c.header("retry-after", String(failure.retryAfterSeconds));
  if (failure.status === 401) c.header("www-authenticate", 'Basic realm="edgebus"');
  return c.json(errorBody(failure, requestId), failure.status as ContentfulStatusCode);
}
