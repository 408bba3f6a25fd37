/** The bounded body reader on a real Node HTTP server (chunked and sized bodies) and on `app.request()`. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toEdgebusError } from "#shared/errors.ts";
import { BodyBudget, readBoundedText } from "./bounded-body.ts";

const LIMIT = 64 * 1024;

function appWith(budget?: BodyBudget): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    const failure = toEdgebusError(error);
    if (failure.retryAfterSeconds !== undefined) c.header("retry-after", String(failure.retryAfterSeconds));
    return c.json({ code: failure.code }, failure.status as ContentfulStatusCode);
  });
  app.post("/echo", async (c) => {
    const text = await readBoundedText(c, { maxBytes: LIMIT, budget });
    return c.json({ length: text.length, start: text.slice(0, 10) });
  });
  app.post("/hold", async (c) => {
    const text = await readBoundedText(c, { maxBytes: LIMIT, budget });
    await new Promise((resolve) => setTimeout(resolve, 300));
    return c.json({ length: text.length });
  });
  return app;
}

/** Streams `total` bytes in 16 KiB chunks (chunked encoding unless `contentLength`), stopping when answered. */
function send(
  url: string,
  total: number,
  options: { contentLength?: boolean } = {},
): Promise<{ status: number; text: string; sent: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(
      url,
      {
        method: "POST",
        agent: false,
        headers: options.contentLength ? { "content-length": String(total) } : {},
      },
      (response) => {
        answered = true;
        const parts: Buffer[] = [];
        response.on("data", (p: Buffer) => parts.push(p));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(parts).toString(),
            sent,
            headers: response.headers,
          }),
        );
      },
    );
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(16 * 1024, "a");
    const pump = () => {
      while (!answered && !req.destroyed && sent < total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      if (!answered && sent >= total) req.end();
    };
    req.flushHeaders();
    pump();
  });
}

describe("readBoundedText on a Node HTTP server", () => {
  let server: ServerType;
  let url: string;
  const budget = new BodyBudget(LIMIT + 1024);

  beforeAll(async () => {
    const app = appWith(budget);
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("returns a chunked body within the limit whole", async () => {
    const answer = await send(`${url}/echo`, LIMIT);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ length: LIMIT, start: "aaaaaaaaaa" });
  });

  it("refuses a chunked body on the stream, long before the client finished sending", async () => {
    const started = Date.now();
    const answer = await send(`${url}/echo`, 200 * 1024 * 1024);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toEqual({ code: "payload_too_large" });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(answer.sent).toBeLessThan(200 * 1024 * 1024);
    // The server keeps serving on new connections.
    expect((await send(`${url}/echo`, 10)).status).toBe(200);
  });

  it("refuses a declared Content-Length above the limit before reading", async () => {
    const answer = await send(`${url}/echo`, LIMIT + 1, { contentLength: true });
    expect(answer.status).toBe(413);
  });

  it("refuses with 429 and Retry-After when the area's budget is spent, and gives the budget back", async () => {
    const [first, second] = await Promise.all([send(`${url}/hold`, LIMIT), send(`${url}/hold`, LIMIT)]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 429]);
    const refused = first.status === 429 ? first : second;
    expect(refused.headers["retry-after"]).toBe("1");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(budget.used).toBe(0);
    expect((await send(`${url}/hold`, LIMIT)).status).toBe(200);
  });
});

describe("readBoundedText without Node's request (app.request)", () => {
  it("counts a streamed body and refuses it past the limit", async () => {
    const app = appWith();
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(16 * 1024).fill(97));
        if (pulled > 10_000) controller.close();
      },
    });
    const response = await app.request("/echo", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect(pulled).toBeLessThan(10);
    const ok = await app.request("/echo", { method: "POST", body: "hello" });
    expect(await ok.json()).toEqual({ length: 5, start: "hello" });
  });
});
