/**
 * One HTTP request with node:http that still reports the server's answer when the server
 * answers early and closes while the body is being sent (a 413 for an oversized body): fetch
 * (undici) turns that into "other side closed" and loses the answer. For the same reason a large
 * body is sent only after a short wait for an early answer to its headers. Node only.
 */
import http from "node:http";

const EARLY_ANSWER_BODY_BYTES = 256 * 1024;
const EARLY_ANSWER_WAIT_MS = 300;

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

export function httpExchange(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = http.request(
      url,
      { method: init.method ?? "GET", headers: init.headers, agent: false },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", reject);
      },
    );
    // Writing the rest of a body the server already refused fails with EPIPE/ECONNRESET; the answer counts.
    request.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (init.body === undefined) {
      request.end();
      return;
    }
    const body = init.body;
    if (Buffer.byteLength(body) < EARLY_ANSWER_BODY_BYTES) {
      request.end(body);
      return;
    }
    // A large body: send the headers first and give the server a moment to refuse on
    // Content-Length alone (what Expect: 100-continue is for), as a careful client would.
    request.setHeader("content-length", Buffer.byteLength(body));
    request.flushHeaders();
    setTimeout(() => {
      if (!answered) request.end(body);
    }, EARLY_ANSWER_WAIT_MS);
  });
}
