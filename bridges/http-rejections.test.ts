import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../scripts/service-probe.ts";
import { requireService } from "../test/support/services.ts";
import { parseBridgeConfig } from "./config.ts";
import { type RunningBridge, startBridge } from "./server.ts";

const available = await requireService("redis", "bridge rejections (Redis only)");

/** Writes raw bytes to the bridge and resolves with everything it answers before closing. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

function jsonBody(rawAnswer: string): unknown {
  return JSON.parse(rawAnswer.slice(rawAnswer.indexOf("\r\n\r\n") + 4));
}

describe.runIf(available)("requests no bridge route sees answer in the edgebus error shape", () => {
  let bridge: RunningBridge;
  beforeAll(async () => {
    bridge = await startBridge(
      parseBridgeConfig({
        port: 0,
        kafka: { brokers: ["127.0.0.1:1"] },
        kafkaRest: { enabled: false },
        redisRest: { url: serviceUrls.redis, token: "rejections-token-0001", allowUnrestrictedUser: true },
      }),
    );
  });
  afterAll(() => bridge.close());

  it.each(["/nope", "/v1/nope", "/v1/mirror"])("GET %s → 404 with code and reason", async (path) => {
    const response = await fetch(`${bridge.url}${path}`, {
      headers: { authorization: "Bearer rejections-token-0001" },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({
      error: { code: "not_found", message: expect.stringContaining(path), request_id: expect.any(String) },
    });
  });

  it("GET /redis/nope is a path-style Redis command: 400 NOPERM in Upstash's shape", async () => {
    const response = await fetch(`${bridge.url}/redis/nope`, {
      headers: { authorization: "Bearer rejections-token-0001" },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: expect.stringMatching(/^NOPERM .*'nope'/) });
  });

  it("headers over Node's limit → 431 payload_too_large, not an empty answer", async () => {
    const answer = await rawExchange(
      bridge.url,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"h".repeat(110 * 1024)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(jsonBody(answer)).toEqual({
      error: { code: "payload_too_large", message: expect.stringContaining("headers"), request_id: expect.any(String) },
    });
  });

  it.each([
    ["a NUL byte in a header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n"],
    [
      "Content-Length with Transfer-Encoding",
      "POST /v1/mirror HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ],
    ["a broken request line", "GARBAGE\r\n\r\n"],
  ])("%s → 400 bad_request with a reason", async (_, request) => {
    const answer = await rawExchange(bridge.url, request);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(jsonBody(answer)).toEqual({
      error: { code: "bad_request", message: "malformed HTTP request", request_id: expect.any(String) },
    });
    expect((await fetch(`${bridge.url}/healthz`)).status).toBe(200);
  });
});
