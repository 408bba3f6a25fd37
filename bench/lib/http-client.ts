/**
 * A minimal keep-alive HTTP/1.1 client for load generation: `node:http` so that the `Host`
 * header can be set (it picks the Worker in a multi-Worker runtime) and so the client adds as
 * little of its own cost as it can. Both the system under test and its baseline use it.
 */
import http from "node:http";

export interface HttpResponse {
  status: number;
  body: string;
  /** Milliseconds from writing the request to the last byte of the response. */
  elapsedMs: number;
}

export interface HttpTarget {
  /** e.g. `http://127.0.0.1:28787/`. */
  url: string;
  /** Overrides the Host header (default: the URL's host). */
  host?: string;
}

export class LoadClient {
  private readonly agent: http.Agent;

  constructor(maxSockets = 64) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** Rejects with `Error("timeout")` when no full answer arrived within `timeoutMs` (default: none). */
  post(
    target: HttpTarget,
    path: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs?: number,
  ): Promise<HttpResponse> {
    const url = new URL(target.url);
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: "POST",
          agent: this.agent,
          headers: { ...headers, host: target.host ?? url.host, "content-length": Buffer.byteLength(body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString("utf8"),
              elapsedMs: performance.now() - started,
            }),
          );
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      if (timeoutMs !== undefined) {
        const timer = setTimeout(() => request.destroy(new Error("timeout")), timeoutMs);
        request.on("close", () => clearTimeout(timer));
      }
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
