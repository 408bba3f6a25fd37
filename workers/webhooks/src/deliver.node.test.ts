/**
 * One delivery attempt in production mode (https only, no private targets, host names checked
 * through a resolver) against a real local HTTP server standing in for the target: requests to
 * `https://hooks.example.gov` are sent to it (a test double of DNS + TLS, nothing else changes).
 * Redirects are never followed, whatever they point at.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptDelivery } from "./deliver.ts";

const production = {
  allowPrivateTargets: false,
  dnsResolverUrl: "https://dns.example/dns-query",
  timeoutMs: 5000,
};
const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

let server: Server;
let base: string;
const seen: { path: string; headers: IncomingMessage["headers"] }[] = [];

/** DNS answers: hooks.example.gov is public, rebind.example.gov resolves into private space. */
const dns: Record<string, string> = { "hooks.example.gov": "93.184.216.34", "rebind.example.gov": "10.0.0.8" };

/** fetch with DNS-over-HTTPS answered from `dns` and the target host mapped to the local server. */
const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.hostname === "dns.example") {
    const name = url.searchParams.get("name") ?? "";
    const type = url.searchParams.get("type");
    const address = dns[name];
    return Response.json({ Status: 0, Answer: type === "A" && address ? [{ type: 1, data: address }] : [] });
  }
  const local = new URL(`${url.pathname}${url.search}`, base);
  return fetch(local, init);
}) as typeof fetch;

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ path: request.url ?? "", headers: request.headers });
    request.resume();
    if (request.url === "/ok") response.writeHead(200).end("thanks");
    else if (request.url === "/to-metadata")
      response.writeHead(302, { location: "http://169.254.169.254/latest" }).end();
    else if (request.url === "/to-local") response.writeHead(307, { location: `${base}/internal` }).end();
    else if (request.url === "/busy") response.writeHead(503, { "retry-after": "120" }).end("busy");
    else if (request.url === "/gone") response.writeHead(410).end();
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const delivery = { messageId: "msg_00000000000000000000000000000001", body: '{"id":"1"}' };

describe("attemptDelivery in production mode", () => {
  it("posts the signed body with the Standard Webhooks headers", async () => {
    const result = await attemptDelivery(
      production,
      { url: "https://hooks.example.gov/ok", secrets: [secret] },
      delivery,
      fetcher,
    );
    expect(result).toMatchObject({ kind: "delivered", status: 200, snippet: "thanks" });
    const request = seen.at(-1);
    expect(request?.headers["webhook-id"]).toBe(delivery.messageId);
    expect(request?.headers["webhook-timestamp"]).toMatch(/^\d+$/);
    expect(request?.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it("does not follow a redirect to a metadata address or back to a local one", async () => {
    for (const path of ["/to-metadata", "/to-local"]) {
      const before = seen.length;
      const result = await attemptDelivery(
        production,
        { url: `https://hooks.example.gov${path}`, secrets: [secret] },
        delivery,
        fetcher,
      );
      expect(result).toMatchObject({ kind: "failed", error: expect.stringContaining("not followed") });
      // Exactly the one request: the redirect's target was never asked.
      expect(seen.slice(before).map((r) => r.path)).toEqual([path]);
    }
  });

  it("refuses a host whose DNS answer is private, and literal private targets, without sending", async () => {
    const before = seen.length;
    for (const url of [
      "https://rebind.example.gov/ok",
      "https://0x7f.1/ok",
      "https://[::ffff:10.0.0.1]/ok",
      "http://hooks.example.gov/ok",
    ]) {
      const result = await attemptDelivery(production, { url, secrets: [secret] }, delivery, fetcher);
      expect(result, url).toMatchObject({ kind: "refused", temporary: false });
    }
    expect(seen.length).toBe(before);
  });

  it("reports Retry-After and 410", async () => {
    expect(
      await attemptDelivery(
        production,
        { url: "https://hooks.example.gov/busy", secrets: [secret] },
        delivery,
        fetcher,
      ),
    ).toMatchObject({ kind: "failed", status: 503, retryAfter: 120 });
    expect(
      await attemptDelivery(
        production,
        { url: "https://hooks.example.gov/gone", secrets: [secret] },
        delivery,
        fetcher,
      ),
    ).toMatchObject({ kind: "gone", status: 410 });
  });
});
