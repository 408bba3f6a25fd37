/**
 * A small Server-Sent Events client for tests, over node:http so a test can stop reading (a slow
 * client) and see every comment and id-only block the server writes. Parses per the WHATWG
 * EventSource rules: `id`, `event`, `data` (joined by newlines), `:` comments; a block is
 * dispatched at a blank line, an id-only block moves `lastEventId` without a message.
 */
import { type IncomingMessage, request } from "node:http";

export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

export class SseConnection {
  readonly status: number;
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  /** As an EventSource keeps it: the last `id` seen, events or not. */
  lastEventId = "";
  /** Bytes received, for tests that fill buffers. */
  received = 0;
  readonly ended: Promise<void>;
  readonly #response: IncomingMessage;
  readonly #waiters = new Set<() => void>();
  #buffer = "";
  #block: { id?: string; event?: string; data: string[] } = { data: [] };

  constructor(response: IncomingMessage) {
    this.#response = response;
    this.status = response.statusCode ?? 0;
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      this.received += Buffer.byteLength(chunk);
      this.#parse(chunk);
    });
    this.ended = new Promise((resolve) => {
      response.on("end", () => resolve());
      response.on("close", () => resolve());
      response.on("error", () => resolve());
    });
    this.ended.then(() => this.#notify());
  }

  /** The whole body when the server answered with an error instead of a stream. */
  async text(): Promise<string> {
    await this.ended;
    return this.messages.map((m) => m.data).join("\n") + this.#buffer;
  }

  pause(): void {
    this.#response.pause();
  }

  resume(): void {
    this.#response.resume();
  }

  close(): void {
    this.#response.destroy();
  }

  /** Resolves when `predicate` holds (checked on every message and comment), or rejects after `timeoutMs`. */
  async until(predicate: (c: SseConnection) => boolean, timeoutMs: number, what = "stream condition"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what} not met within ${timeoutMs} ms (${this.messages.length} messages)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 200));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  #notify(): void {
    for (const waiter of this.#waiters) waiter();
    this.#waiters.clear();
  }

  #parse(chunk: string): void {
    this.#buffer += chunk;
    let newline = this.#buffer.indexOf("\n");
    while (newline >= 0) {
      const line = this.#buffer.slice(0, newline).replace(/\r$/, "");
      this.#buffer = this.#buffer.slice(newline + 1);
      this.#line(line);
      newline = this.#buffer.indexOf("\n");
    }
    this.#notify();
  }

  #line(line: string): void {
    if (line === "") {
      const block = this.#block;
      this.#block = { data: [] };
      if (block.id !== undefined) this.lastEventId = block.id;
      if (block.data.length > 0) {
        this.messages.push({ id: block.id, event: block.event ?? "message", data: block.data.join("\n") });
      }
      return;
    }
    if (line.startsWith(":")) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") this.#block.id = value;
    else if (field === "event") this.#block.event = value;
    else if (field === "data") this.#block.data.push(value);
  }
}

/** Opens `url` with `Accept: text/event-stream`; resolves once the response headers arrived. */
export function openEventStream(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (response) =>
      resolve(new SseConnection(response)),
    );
    req.on("error", reject);
    req.end();
  });
}
