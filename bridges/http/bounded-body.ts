/**
 * The one way a bridge route reads a request body: counted on the stream as it arrives, chunked
 * or not, and refused the moment it passes the route's limit, so no request can make the bridge
 * hold more than `maxBytes` of it. Callers check credentials carried in headers (Basic, Bearer,
 * the mirror's signature headers) before they call it.
 *
 * - A `Content-Length` above the limit is refused before a byte is read.
 * - Without one (`Transfer-Encoding: chunked`) the bytes are counted as they arrive; one byte too
 *   many stops the read with `payload_too_large` (413).
 * - A `BodyBudget` bounds the bytes all requests of an area hold at once: a body that does not
 *   fit is refused with `rate_limited` (429, `Retry-After`), and the budget is given back when
 *   the answer has gone out (so the bytes stay counted while the route works on them).
 *
 * What happens to the rest of a refused body (`closeUnreadBodies`, mounted first on the bridge,
 * which serves with `autoCleanupIncoming: false`): the answer goes out at once with
 * `Connection: close`, then the bridge half-closes the connection and stops reading it, so the
 * client can read the answer before the connection is dropped (a plain close with unread bytes
 * resets the connection and the client may lose the answer), and destroys it `LINGER_MS` later.
 * What the client keeps sending waits in the kernel's socket buffer until TCP flow control stops
 * it: the bridge neither reads nor keeps it.
 *
 * Runs on `@hono/node-server` (reads Node's `IncomingMessage` directly, `c.env.incoming`) and
 * anywhere else Hono runs, e.g. `app.request()` in tests (reads `c.req.raw.body`).
 *
 * @example
 * const text = await readBoundedText(c, { maxBytes: 1_048_576, budget });
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Context, MiddlewareHandler } from "hono";
import { EdgebusError } from "#shared/errors.ts";

/** Longest a connection whose request body was refused stays open after the answer. */
export const LINGER_MS = 1_000;
const LINGERING = Symbol("edgebus.lingering");

/** Bytes all requests of one area may hold at once; shared by every read that is given it. */
export class BodyBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`body budget must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Bytes currently held. */
  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` when they fit; false (and nothing taken) when they do not. */
  tryTake(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}

export interface BodyLimits {
  /** Largest body this route accepts. */
  readonly maxBytes: number;
  /** Shared by the requests of one area; none = only `maxBytes` applies. */
  readonly budget?: BodyBudget;
}

export function bodyTooLarge(maxBytes: number): EdgebusError {
  return new EdgebusError("payload_too_large", `body larger than ${maxBytes} bytes`);
}

function budgetSpent(budget: BodyBudget): EdgebusError {
  return new EdgebusError(
    "rate_limited",
    `the bridge is holding ${budget.limit} bytes of request bodies for this area already; retry shortly`,
    { retryAfterSeconds: 1 },
  );
}

/** The request body as bytes, read within `limits`. */
export async function readBoundedBody(c: Context, limits: BodyLimits): Promise<Uint8Array> {
  refuseDeclaredOversize(c.req.header("content-length"), limits);
  const node = nodeBindings(c);
  if (node) return readIncoming(node.incoming, node.outgoing, limits);
  return readWebStream(c.req.raw.body, limits);
}

/**
 * The same read on Node's request and response directly (the lean routes, `lean-routes.ts`):
 * `contentLength` is the request's `Content-Length` as `Headers.get` gives it.
 */
export async function readIncomingBody(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  contentLength: string | undefined,
  limits: BodyLimits,
): Promise<Buffer> {
  refuseDeclaredOversize(contentLength, limits);
  return readIncoming(incoming, outgoing, limits);
}

function refuseDeclaredOversize(declared: string | undefined, limits: BodyLimits): void {
  if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared) > limits.maxBytes) {
    throw bodyTooLarge(limits.maxBytes);
  }
}

/** The request body as text (UTF-8; invalid bytes become U+FFFD, as `Request.text()` does). */
export async function readBoundedText(c: Context, limits: BodyLimits): Promise<string> {
  return bodyText(await readBoundedBody(c, limits));
}

const utf8 = new TextDecoder("utf-8");

/** Body bytes as text, as `Request.text()` decodes them (a leading BOM dropped, invalid bytes U+FFFD). */
export function bodyText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/**
 * Mount first (`app.use("*", closeUnreadBodies)`): an answer given while the request body is
 * still arriving (a refusal before or during the read) closes the connection gently, as described
 * at the top, instead of keeping it alive for the rest of a body nobody will read.
 */
export const closeUnreadBodies: MiddlewareHandler = async (c, next) => {
  await next();
  const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
  if (env?.incoming && env.outgoing) closeIfBodyUnread(env.incoming, env.outgoing);
};

/**
 * Called just before an answer is written: when the request body is still arriving, the answer
 * goes out with `Connection: close` and the connection lingers as described at the top.
 */
export function closeIfBodyUnread(incoming: IncomingMessage, outgoing: ServerResponse): void {
  if (incoming.complete || outgoing.headersSent) return;
  // Node then answers with `Connection: close` and calls socket.destroySoon() after the answer.
  outgoing.shouldKeepAlive = false;
  lingerOnClose(incoming.socket as Socket & { [LINGERING]?: true }, incoming);
}

function lingerOnClose(socket: Socket & { [LINGERING]?: true }, incoming: IncomingMessage): void {
  if (!socket || socket[LINGERING]) return;
  socket[LINGERING] = true;
  // Stop reading this connection for good. Pausing the request is not enough: Node "dumps" a
  // body nobody read after the answer, resuming the socket, and its parser then reads and drops
  // the rest at full speed. This connection is closing, so nothing may resume it.
  socket.pause();
  socket.resume = () => socket;
  incoming.pause();
  const destroyNow = () => socket.destroy();
  // Node calls this after the answer: half-close, destroy after the linger time. A second call
  // destroys at once.
  socket.destroySoon = () => {
    socket.destroySoon = destroyNow;
    socket.end();
    const timer = setTimeout(destroyNow, LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  };
}

function nodeBindings(c: Context): { incoming: IncomingMessage; outgoing: ServerResponse | undefined } | undefined {
  const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
  const incoming = env?.incoming;
  // Read the socket directly unless something already started reading it another way.
  if (!incoming || typeof incoming.on !== "function" || incoming.readableDidRead) return undefined;
  return { incoming, outgoing: env?.outgoing };
}

function readIncoming(
  incoming: IncomingMessage,
  outgoing: ServerResponse | undefined,
  { maxBytes, budget }: BodyLimits,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let held = 0;
    const detach = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onCut);
      incoming.off("close", onClose);
    };
    const fail = (error: EdgebusError) => {
      detach();
      // Leave the rest where it is: the server discards it after the answer (see the top).
      incoming.pause();
      chunks.length = 0;
      budget?.give(held);
      held = 0;
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return fail(bodyTooLarge(maxBytes));
      if (budget) {
        if (!budget.tryTake(chunk.length)) return fail(budgetSpent(budget));
        held += chunk.length;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      detach();
      if (budget && held > 0) {
        const bytes = held;
        // Held until the answer has gone (or the connection is gone).
        if (outgoing && !outgoing.writableFinished && !outgoing.destroyed)
          outgoing.once("close", () => budget.give(bytes));
        else budget.give(bytes);
      }
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onCut = () => fail(new EdgebusError("bad_request", "the request body was cut off"));
    const onClose = () => {
      if (!incoming.readableEnded) onCut();
    };
    if (incoming.readableEnded) {
      resolve(Buffer.alloc(0));
      return;
    }
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onCut);
    incoming.on("close", onClose);
  });
}

async function readWebStream(
  body: ReadableStream<Uint8Array> | null,
  { maxBytes, budget }: BodyLimits,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let held = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw bodyTooLarge(maxBytes);
      if (budget) {
        if (!budget.tryTake(value.byteLength)) throw budgetSpent(budget);
        held += value.byteLength;
      }
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof EdgebusError) throw error;
    throw new EdgebusError("bad_request", "the request body was cut off", { cause: error });
  } finally {
    // No response object to wait for here (tests, other runtimes): the bytes are given back now.
    budget?.give(held);
  }
  const whole = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    whole.set(chunk, at);
    at += chunk.byteLength;
  }
  return whole;
}
