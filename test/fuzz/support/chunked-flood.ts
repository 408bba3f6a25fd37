/**
 * Attack traffic for the bridge's edge: one HTTP request whose body is streamed with chunked
 * transfer encoding (no Content-Length, so the server cannot refuse it up front) until the
 * server answers, the connection breaks, `totalBytes` were sent or the deadline passes; and the
 * resident memory of a process, read from `/proc/<pid>/status` (VmRSS). Node (Linux) only.
 */
import { readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";

export interface FloodRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Bytes sent first (e.g. the start of a JSON document); the rest is filler. */
  readonly prefix?: string;
  /** Body size the client is prepared to send (e.g. 300 MB). */
  readonly totalBytes: number;
  readonly chunkBytes?: number;
  /** Give up (and destroy the connection) after this long without an answer. */
  readonly deadlineMs?: number;
}

export interface FloodOutcome {
  /** The answer's status; undefined when there was none before the deadline or the connection broke. */
  readonly status: number | undefined;
  /** Milliseconds from the first byte sent to the answer's headers (or to giving up). */
  readonly ms: number;
  /** Body bytes the client had written when it stopped. */
  readonly bytesSent: number;
  readonly text: string;
  readonly headers: http.IncomingHttpHeaders;
  /** Why no answer came, when none did. */
  readonly failure?: string;
}

/** Sends one chunked request body of up to `totalBytes`, stopping as soon as the server answers. */
export function chunkedFlood(url: string, request: FloodRequest): Promise<FloodOutcome> {
  const chunk = Buffer.alloc(request.chunkBytes ?? 64 * 1024, "x");
  const started = Date.now();
  return new Promise((resolve) => {
    let sent = 0;
    let settled = false;
    let answeredAt: number | undefined;
    const finish = (outcome: Omit<FloodOutcome, "bytesSent">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, bytesSent: sent });
    };
    const client = url.startsWith("https:") ? https : http;
    const req = client.request(
      url,
      {
        method: request.method ?? "POST",
        // No Content-Length: Node sends the body with Transfer-Encoding: chunked.
        headers: { "content-type": "application/json", ...request.headers },
        agent: false,
        rejectUnauthorized: false,
      },
      (response) => {
        answeredAt = Date.now();
        const parts: Buffer[] = [];
        response.on("data", (part: Buffer) => parts.push(part));
        const done = () =>
          finish({
            status: response.statusCode,
            ms: (answeredAt as number) - started,
            text: Buffer.concat(parts).toString("utf8"),
            headers: response.headers,
          });
        response.on("end", done);
        response.on("error", done);
        response.on("close", done);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${request.deadlineMs ?? 5000} ms`));
    }, request.deadlineMs ?? 5000);
    req.on("error", (error) => {
      // Writing after the server answered and closed fails with EPIPE/ECONNRESET: the answer counts.
      if (answeredAt !== undefined) return;
      finish({ status: undefined, ms: Date.now() - started, text: "", headers: {}, failure: error.message });
    });
    // As fast as the connection takes it, but back to the event loop every 1 MiB: a server that
    // drains the socket as fast as it arrives would otherwise keep this loop from ever reading
    // the answer.
    const pump = () => {
      let burst = 0;
      while (answeredAt === undefined && !req.destroyed && sent < request.totalBytes) {
        const piece = sent === 0 && request.prefix ? Buffer.from(request.prefix) : chunk;
        sent += piece.length;
        burst += piece.length;
        if (!req.write(piece)) {
          req.once("drain", pump);
          return;
        }
        if (burst >= 1024 * 1024) {
          setImmediate(pump);
          return;
        }
      }
      if (answeredAt === undefined && !req.destroyed && sent >= request.totalBytes) req.end();
    };
    req.flushHeaders();
    pump();
  });
}

/** Resident set size of a process in bytes (`VmRSS` of `/proc/<pid>/status`). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; `stop()` resolves with the largest value seen. */
export function sampleResident(pid: number, everyMs = 25): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await residentBytes(pid).catch(() => 0));
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Math.max(peak, await residentBytes(pid).catch(() => 0));
    },
  };
}

export const MB = 1024 * 1024;

/** `147.2 MB` */
export function megabytes(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}
