/**
 * For tests that a lean route (bridges/http/lean-routes.ts) answers exactly as the Hono route it
 * stands in front of: the same app served twice, as the bridge serves it (`autoCleanupIncoming`
 * off) with and without the lean routes, and raw HTTP requests whose answers (status, headers but
 * `Date`, body) can be compared as they came off the wire.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { type LeanRoute, type LeanRoutesOptions, leanRoutesServer } from "../../bridges/http/lean-routes.ts";

export interface ServedPair {
  /** Base URLs: the Hono app alone, and with the lean routes in front. */
  readonly hono: string;
  readonly lean: string;
  close(): Promise<void>;
}

/**
 * Serves `honoApp` alone and `leanApp` (the same app built again, so that neither shares state
 * such as nonces with the other) with `routes` in front.
 */
export async function servePair(
  honoApp: Hono,
  leanApp: Hono,
  routes: readonly LeanRoute[],
  options: LeanRoutesOptions = {},
): Promise<ServedPair> {
  const servers = [
    serve({ fetch: honoApp.fetch, port: 0, hostname: "127.0.0.1", autoCleanupIncoming: false }),
    serve({
      fetch: leanApp.fetch,
      port: 0,
      hostname: "127.0.0.1",
      autoCleanupIncoming: false,
      createServer: leanRoutesServer(createServer, routes, options),
    }),
  ];
  await Promise.all(servers.map((server) => new Promise((resolve) => server.once("listening", resolve))));
  const [hono, lean] = servers.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return {
    hono: hono as string,
    lean: lean as string,
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              (server as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        ),
      );
    },
  };
}

export interface RawAnswer {
  readonly status: number;
  /** Lower-case names, sorted, without `date`. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string | string[]>>;
  /** Sent with `Content-Length`, or in `chunks` with `Transfer-Encoding: chunked`. */
  readonly body?: string;
  readonly chunks?: readonly string[];
}

/** One request on its own connection; the answer as it arrived. */
export function rawRequest(baseUrl: string, spec: RawRequest): Promise<RawAnswer> {
  const url = new URL(spec.path, baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[] | number> = { ...spec.headers };
    if (spec.body !== undefined) headers["content-length"] = Buffer.byteLength(spec.body);
    const outgoing = request(
      { host: url.hostname, port: url.port, method: spec.method, path: spec.path, headers, agent: false },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => {
          const pairs: [string, string][] = [];
          for (let i = 0; i < response.rawHeaders.length; i += 2) {
            const name = (response.rawHeaders[i] as string).toLowerCase();
            if (name !== "date") pairs.push([name, response.rawHeaders[i + 1] as string]);
          }
          pairs.sort((a, b) => (a[0] === b[0] ? a[1].localeCompare(b[1]) : a[0].localeCompare(b[0])));
          resolve({ status: response.statusCode ?? 0, headers: pairs, body });
        });
        response.on("error", reject);
      },
    );
    // The server may answer and close before it read the whole body (a refusal): not an error here.
    outgoing.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    if (spec.body !== undefined) outgoing.end(spec.body);
    else if (spec.chunks !== undefined) {
      for (const chunk of spec.chunks) outgoing.write(chunk);
      outgoing.end();
    } else outgoing.end();
  });
}
