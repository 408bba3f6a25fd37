/** The lean-route dispatcher itself: what it takes, what it leaves to the fallback, what it reports. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest } from "../../test/support/lean-and-hono.ts";
import { type LeanRoute, withLeanRoutes } from "./lean-routes.ts";

describe("withLeanRoutes", () => {
  let server: Server;
  let url: string;
  const answered: [string, number][] = [];
  const routes: LeanRoute[] = [
    {
      method: "POST",
      path: "/echo",
      async handle(request) {
        const body = await request.body({ maxBytes: 64 });
        return {
          status: 201,
          json: JSON.stringify({ header: request.header("x-twice") ?? null, body: body.toString("utf8") }),
          headers: { "x-lean": "1" },
        };
      },
      fail: (error) => ({ status: 418, json: JSON.stringify({ failed: (error as Error).message }) }),
    },
    {
      method: "POST",
      path: "/broken",
      handle: async () => {
        throw new Error("handle broke");
      },
      fail: () => {
        throw new Error("fail broke too");
      },
    },
  ];

  beforeAll(async () => {
    const fallback = createServer((_request, response) => response.end("fallback")).listeners("request")[0];
    server = createServer(
      withLeanRoutes(routes, fallback as Parameters<typeof withLeanRoutes>[1], {
        onAnswered: (path, status) => answered.push([path, status]),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("serves its exact path and method, the query string ignored; repeated headers joined as web Headers join them", async () => {
    const answer = await rawRequest(url, {
      method: "POST",
      path: "/echo?x=1",
      headers: { "x-twice": ["a", "b"] },
      body: "hi",
    });
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body)).toEqual({ header: "a, b", body: "hi" });
    expect(answer.headers).toContainEqual(["content-type", "application/json"]);
    expect(answer.headers).toContainEqual(["x-lean", "1"]);
    expect(answered.at(-1)).toEqual(["/echo", 201]);
  });

  it("leaves other methods and paths to the fallback, unreported", async () => {
    const count = answered.length;
    for (const [method, path] of [
      ["GET", "/echo"],
      ["POST", "/echo/"],
      ["POST", "/ECHO"],
      ["POST", "/other"],
    ] as const) {
      expect((await rawRequest(url, { method, path, body: "" })).body).toBe("fallback");
    }
    expect(answered.length).toBe(count);
  });

  it("renders a failure with the route's fail, a failing fail as a bare 500; a refused body closes the connection", async () => {
    const tooLarge = await rawRequest(url, { method: "POST", path: "/echo", body: "x".repeat(100) });
    expect(tooLarge.status).toBe(418);
    expect(JSON.parse(tooLarge.body)).toEqual({ failed: "body larger than 64 bytes" });
    expect(tooLarge.headers).toContainEqual(["connection", "close"]);
    const broken = await rawRequest(url, { method: "POST", path: "/broken", body: "" });
    expect(broken.status).toBe(500);
    expect(answered.at(-1)).toEqual(["/broken", 500]);
  });
});
