/**
 * The bridge's hot routes (Kafka REST produce, `POST /v1/mirror`) served on Node's request and
 * response directly, in front of the Hono app. Every other request, and any request a lean route
 * does not match exactly (method and path, the query string ignored), goes to Hono unchanged.
 *
 * Why: per batch request the Hono path built a web `Request` (its `Headers` from every raw
 * header, a URL), ran the middleware chain and a router, and turned the answer into a web
 * `Response` that `@hono/node-server` then took apart again, all of it garbage afterwards. A lean
 * route reads what it needs from Node's `IncomingMessage` and writes one string.
 *
 * What stays the same, so that a client cannot tell the two paths apart (the tests compare them):
 * the route's own checks in the same order (credentials in headers before a body byte is read),
 * the body read by the same bounded reader (`bounded-body.ts`: `maxBytes`, the area's budget, a
 * refusal while the body is still arriving closes the connection gently), the same status, JSON
 * body and headers, the same request metrics (through `onAnswered`, which the bridge's metrics
 * middleware also uses) and the same error log lines.
 *
 * A route opts in by giving its exact path, its method, `handle` (the answer) and `fail` (an
 * error in its area's shape): see `createKafkaRestLeanRoutes` and `createMirrorLeanRoute`.
 */
import type { createServer as createHttpServer, IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { createServer as createHttpsServer } from "node:https";
import { type BodyLimits, closeIfBodyUnread, readIncomingBody } from "./bounded-body.ts";

/** What a lean route gets of one request. */
export interface LeanRequest {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
  /** The request path without the query string. */
  readonly path: string;
  /**
   * A request header as the web `Headers.get` gives it (what the Hono routes read): every value
   * of a repeated header, joined with ", "; `undefined` when absent.
   */
  header(name: string): string | undefined;
  /** The body, read within `limits` (see `bounded-body.ts`). */
  body(limits: BodyLimits): Promise<Buffer>;
}

/** An answer: a status and a JSON text (`content-type: application/json`), plus extra headers. */
export interface LeanAnswer {
  readonly status: number;
  readonly json: string;
  /** Lower-case names, e.g. `{ "retry-after": "1" }`. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LeanRoute {
  readonly method: string;
  /** The exact path, e.g. `/kafka/produce`. */
  readonly path: string;
  /** The answer; throwing is a failure that `fail` renders. */
  handle(request: LeanRequest): Promise<LeanAnswer>;
  /** The answer for an error thrown by `handle`, in the route's area's error shape (and its log line). */
  fail(error: unknown, request: LeanRequest): LeanAnswer;
}

export interface LeanRoutesOptions {
  /** Called after every answer of a lean route (the bridge's request metrics). */
  readonly onAnswered?: (path: string, status: number, seconds: number) => void;
}

/**
 * A request listener that serves `routes` and hands everything else to `fallback` (the Hono
 * app's listener from `@hono/node-server`).
 */
export function withLeanRoutes(
  routes: readonly LeanRoute[],
  fallback: RequestListener,
  options: LeanRoutesOptions = {},
): RequestListener {
  if (routes.length === 0) return fallback;
  const byPath = new Map<string, LeanRoute>();
  for (const route of routes) {
    if (byPath.has(route.path)) throw new Error(`two lean routes for ${route.path}`);
    byPath.set(route.path, route);
  }
  return (incoming, outgoing) => {
    const url = incoming.url ?? "";
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    const route = byPath.get(path);
    if (route === undefined || route.method !== incoming.method) {
      fallback(incoming, outgoing);
      return;
    }
    void serve(route, new NodeLeanRequest(incoming, outgoing, path), options);
  };
}

async function serve(route: LeanRoute, request: NodeLeanRequest, options: LeanRoutesOptions): Promise<void> {
  const started = performance.now();
  let answer: LeanAnswer;
  try {
    answer = await route.handle(request);
  } catch (error) {
    try {
      answer = route.fail(error, request);
    } catch {
      answer = { status: 500, json: '{"error":"internal error"}' };
    }
  }
  const { incoming, outgoing } = request;
  closeIfBodyUnread(incoming, outgoing);
  if (!outgoing.headersSent && !outgoing.writableEnded) {
    outgoing.writeHead(answer.status, {
      ...answer.headers,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(answer.json, "utf8"),
    });
    // As a string, Node writes the head and the body in one piece (a Buffer body is a second chunk).
    outgoing.end(answer.json);
  }
  options.onAnswered?.(request.path, answer.status, (performance.now() - started) / 1000);
}

class NodeLeanRequest implements LeanRequest {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
  readonly path: string;

  constructor(incoming: IncomingMessage, outgoing: ServerResponse, path: string) {
    this.incoming = incoming;
    this.outgoing = outgoing;
    this.path = path;
  }

  header(name: string): string | undefined {
    // From the raw headers: Node's `headers` object keeps only the first of some repeated headers
    // (Authorization, Content-Length, ...), while `Headers.get` joins them all.
    const raw = this.incoming.rawHeaders;
    let value: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i] as string;
      if (key.length !== name.length || key.toLowerCase() !== name) continue;
      value = value === undefined ? (raw[i + 1] as string) : `${value}, ${raw[i + 1]}`;
    }
    return value;
  }

  body(limits: BodyLimits): Promise<Buffer> {
    return readIncomingBody(this.incoming, this.outgoing, this.header("content-length"), limits);
  }
}

/**
 * `createServer` for `@hono/node-server`'s `serve` (`node:http`'s or `node:https`'s): the server
 * `serve` makes then sends every request through `withLeanRoutes` first, while `serve` still sets
 * up everything else (its listener for Hono, WebSocket upgrades).
 */
export function leanRoutesServer<Create extends typeof createHttpServer | typeof createHttpsServer>(
  create: Create,
  routes: readonly LeanRoute[],
  options: LeanRoutesOptions = {},
): Create {
  const wrapped = (serverOptions: object, listener: RequestListener) =>
    (create as (options: object, listener: RequestListener) => unknown)(
      serverOptions,
      withLeanRoutes(routes, listener, options),
    );
  return wrapped as Create;
}
