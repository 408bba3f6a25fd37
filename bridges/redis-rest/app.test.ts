import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../../test/support/redis-gateway-user.ts";
import { requireService } from "../../test/support/services.ts";
import { createRedisRestApp } from "./app.ts";

const available = await requireService("redis", "redis-rest gateway (raw HTTP)");
const token = randomBytes(24).toString("hex");
const prefix = `t:brokers:${randomUUID()}:`;

describe.skipIf(!available)("Redis REST gateway over HTTP", () => {
  // Connected in beforeAll: a skipped suite's body still runs at collection time.
  /** Full access: seeds and inspects Redis behind the gateway's back. */
  let redis: Redis;
  /** The gateway's connection, as its restricted ACL user. */
  let user: GatewayRedisUser;
  let gatewayRedis: Redis;
  let app: ReturnType<typeof createRedisRestApp>;
  beforeAll(async () => {
    redis = new Redis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    user = await createGatewayRedisUser(serviceUrls.redis);
    gatewayRedis = new Redis(user.url, { maxRetriesPerRequest: 1 });
    app = createRedisRestApp({ redis: gatewayRedis, token, maxRequestBytes: 64 * 1024 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await gatewayRedis?.quit();
    await user?.drop();
    await redis.quit();
  });

  function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    return app.request(path, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  }
  const base64 = { "upstash-encoding": "base64" };
  type RestBody = { result?: unknown; error?: string };
  const json = async (res: Response) => (await res.json()) as RestBody;
  const b64 = (text: string) => Buffer.from(text).toString("base64");

  describe("auth", () => {
    it("rejects a missing token with 401 JSON", async () => {
      const res = await app.request("/", {
        method: "POST",
        body: '["ping"]',
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: expect.stringContaining("Unauthorized"), code: "unauthorized" });
    });

    it("rejects a wrong token with 401 JSON", async () => {
      const res = await post("/pipeline", [["ping"]], { authorization: `Bearer ${token}x` });
      expect(res.status).toBe(401);
      expect(await res.json()).toHaveProperty("error");
    });

    it("refuses a too-short configured token at startup", () => {
      expect(() => createRedisRestApp({ redis: gatewayRedis, token: "short" })).toThrow(/at least 16/);
    });
  });

  describe("malformed requests", () => {
    it("reads the command body whatever the content type says, as Upstash does (curl -d sends a form type)", async () => {
      for (const contentType of ["text/plain", "application/x-www-form-urlencoded"]) {
        const res = await post("/", '["ping"]', { "content-type": contentType });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ result: "PONG" });
      }
    });

    it("answers broken JSON with 400", async () => {
      const res = await post("/", '["set", "k"');
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: expect.stringContaining("not valid JSON"), code: "malformed_json" });
    });

    it.each([
      ["an object", { cmd: "ping" }],
      ["an empty array", []],
      ["a nested object argument", ["set", `${prefix}o`, { a: 1 }]],
      ["a null argument", ["set", `${prefix}o`, null]],
      ["an empty command name", [""]],
    ])("answers %s as a single command with 400", async (_, body) => {
      const res = await post("/", body);
      expect(res.status).toBe(400);
      expect(typeof (await json(res)).error).toBe("string");
    });

    it("answers a pipeline that is not an array of commands with 400", async () => {
      for (const body of [["ping"], [], [["ping"], "get"]]) {
        const res = await post("/pipeline", body);
        expect(res.status, JSON.stringify(body)).toBe(400);
      }
    });

    it("enforces the request size limit with 413", async () => {
      const res = await post("/", ["set", `${prefix}big`, "x".repeat(70 * 1024)]);
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: "body larger than 65536 bytes", code: "payload_too_large" });
      expect(await redis.exists(`${prefix}big`)).toBe(0);
    });

    it("counts a chunked body on the stream (no Content-Length), and refuses it past the limit", async () => {
      const big = JSON.stringify(["set", `${prefix}chunked`, "x".repeat(70 * 1024)]);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const bytes = new TextEncoder().encode(big);
          for (let at = 0; at < bytes.length; at += 8192) controller.enqueue(bytes.slice(at, at + 8192));
          controller.close();
        },
      });
      const res = await app.request("/", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
        duplex: "half",
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(await redis.exists(`${prefix}chunked`)).toBe(0);
    });

    it("answers 429 with Retry-After when the area's body budget is spent", async () => {
      const { BodyBudget } = await import("../http/bounded-body.ts");
      const budget = new BodyBudget(4096);
      budget.tryTake(4000); // held by requests in flight
      const tight = createRedisRestApp({ redis: gatewayRedis, token, bodyBudget: budget });
      const res = await tight.request("/", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(["set", `${prefix}budget`, "x".repeat(200)]),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(await json(res)).toMatchObject({ code: "rate_limited" });
      expect(await redis.exists(`${prefix}budget`)).toBe(0);
    });

    it("enforces the commands-per-request limit with 413, running none of them", async () => {
      const small = createRedisRestApp({ redis: gatewayRedis, token, maxCommands: 3 });
      const commands = Array.from({ length: 4 }, (_, i) => ["set", `${prefix}many${i}`, "1"]);
      const res = await small.request("/pipeline", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(commands),
      });
      expect(res.status).toBe(413);
      expect((await json(res)).error).toContain("too many commands: 4 (limit 3");
      expect(await redis.exists(`${prefix}many0`)).toBe(0);
    });

    it("answers other methods with 405 and unknown paths with 404", async () => {
      const get = await app.request("/", { headers: { authorization: `Bearer ${token}` } });
      expect(get.status).toBe(405);
      expect(get.headers.get("allow")).toBe("POST, PUT");
      const deleted = await app.request("/get/k", { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
      expect(deleted.status).toBe(405);
      expect(deleted.headers.get("allow")).toBe("GET, HEAD, POST, PUT");
    });
  });

  describe("replies", () => {
    it("base64-encodes every string, OK included, and keeps integers and nil", async () => {
      const set = await post("/", ["set", `${prefix}s`, "abcd"], base64);
      expect(await set.json()).toEqual({ result: b64("OK") });
      expect(await (await post("/", ["get", `${prefix}s`], base64)).json()).toEqual({ result: b64("abcd") });
      expect(await (await post("/", ["strlen", `${prefix}s`], base64)).json()).toEqual({ result: 4 });
      const missing = await post("/", ["get", `${prefix}missing`], base64);
      expect(missing.status).toBe(200);
      expect(await missing.text()).toBe('{"result":null}');
    });

    it("sends plain strings without the encoding header", async () => {
      expect(await (await post("/", ["set", `${prefix}p`, "plain"])).json()).toEqual({ result: "OK" });
      expect(await (await post("/", ["get", `${prefix}p`])).json()).toEqual({ result: "plain" });
    });

    it("keeps binary values intact in base64 mode", async () => {
      const bytes = Buffer.from([0, 255, 128, 10, 13, 0xc3]);
      await redis.set(`${prefix}bin`, bytes);
      const res = await post("/", ["get", `${prefix}bin`], base64);
      expect(Buffer.from(String((await json(res)).result), "base64")).toEqual(bytes);
    });

    it("turns JSON numbers and booleans into Redis strings", async () => {
      await post("/", ["set", `${prefix}n`, 12.5]);
      await post("/", ["set", `${prefix}b`, true]);
      expect(await redis.get(`${prefix}n`)).toBe("12.5");
      expect(await redis.get(`${prefix}b`)).toBe("true");
      expect(await (await post("/", ["incrby", `${prefix}i`, 3])).json()).toEqual({ result: 3 });
    });

    it("encodes nested arrays element by element, and HGETALL stays a flat array", async () => {
      const nested = await post("/", ["eval", "return {1, {2, 'x', false}, 'OK'}", 0], base64);
      expect(await nested.json()).toEqual({ result: [1, [2, b64("x"), null], b64("OK")] });
      await redis.hset(`${prefix}h`, "f", "v");
      expect(await (await post("/", ["hgetall", `${prefix}h`], base64)).json()).toEqual({
        result: [b64("f"), b64("v")],
      });
    });

    it("accepts empty-string keys and fields", async () => {
      const res = await post("/", ["eval", "return KEYS[1] .. '|' .. ARGV[1]", 1, "", "a"]);
      expect(await res.json()).toEqual({ result: "|a" });
      await post("/", ["hset", `${prefix}ef`, "", "empty"]);
      expect(await redis.hget(`${prefix}ef`, "")).toBe("empty");
    });
  });

  describe("errors", () => {
    it("answers a failing single command with 400 and Redis's own text", async () => {
      await redis.set(`${prefix}str`, "text");
      const res = await post("/", ["incr", `${prefix}str`], base64);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "ERR value is not an integer or out of range" });
    });

    it("passes NOSCRIPT through verbatim", async () => {
      const res = await post("/", ["evalsha", "0".repeat(40), 0]);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toMatch(/^NOSCRIPT /);
    });

    it("keeps per-command errors in place in a pipeline, with 200", async () => {
      const res = await post(
        "/pipeline",
        [
          ["set", `${prefix}pl`, "v"],
          ["incr", `${prefix}pl`],
          ["get", `${prefix}pl`],
        ],
        base64,
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([
        { result: b64("OK") },
        { error: "ERR value is not an integer or out of range" },
        { result: b64("v") },
      ]);
    });

    it("answers 503 when Redis cannot be reached", async () => {
      const down = new Redis("redis://127.0.0.1:1", {
        maxRetriesPerRequest: 0,
        lazyConnect: true,
        retryStrategy: () => null,
      });
      down.on("error", () => {}); // the refused connection is the point of this test
      const downApp = createRedisRestApp({ redis: down, token });
      for (const [path, body] of [
        ["/", '["ping"]'],
        ["/pipeline", '[["ping"],["ping"]]'],
        ["/multi-exec", '[["set","k","v"]]'],
      ] as const) {
        const res = await downApp.request(path, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body,
        });
        expect(res.status, path).toBe(503);
        expect(await res.json()).toEqual({
          error: expect.stringContaining("unavailable"),
          code: "upstream_unavailable",
        });
      }
      down.disconnect();
    });
  });

  describe("transactions", () => {
    it("runs MULTI/EXEC and reports runtime errors in place", async () => {
      const res = await post(
        "/multi-exec",
        [
          ["set", `${prefix}tx`, "a"],
          ["incr", `${prefix}tx`],
          ["append", `${prefix}tx`, "b"],
        ],
        base64,
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([
        { result: b64("OK") },
        { error: "ERR value is not an integer or out of range" },
        { result: 2 },
      ]);
    });

    it("answers a transaction Redis discards (EXECABORT) with one non-2xx error and no effect", async () => {
      const res = await post("/multi-exec", [["set", `${prefix}abort`, "1"], ["get"]]);
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.error).toMatch(/^EXECABORT .*wrong number of arguments for 'get'/);
      expect(await redis.exists(`${prefix}abort`)).toBe(0);
    });

    it("is atomic against concurrent pipeline traffic", async () => {
      const key = `${prefix}atomic`;
      const writes = Array.from({ length: 20 }, (_, i) => post("/pipeline", [["set", key, `p${i}`]]));
      const tx = post("/multi-exec", [
        ["set", key, "tx"],
        ["get", key],
      ]);
      const [txRes] = await Promise.all([tx, ...writes]);
      expect(await txRes.json()).toEqual([{ result: "OK" }, { result: "tx" }]);
    });
  });

  describe("refused commands", () => {
    it.each([
      [["blpop", `${prefix}l`, 0]],
      [["subscribe", "chat"]],
      [["monitor"]],
      [["multi"]],
      [["select", 1]],
      [["xread", "BLOCK", 0, "STREAMS", `${prefix}x`, "$"]],
      [["config", "set", "maxmemory", "1"]],
      [["script", "flush"]],
    ])("refuses %j with 400", async (command) => {
      const res = await post("/", command);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toContain("refused by the REST gateway");
    });

    it("refuses a pipeline holding a refused command before running any of it", async () => {
      const res = await post("/pipeline", [
        ["set", `${prefix}before`, "1"],
        ["brpop", `${prefix}l`, 1],
      ]);
      expect(res.status).toBe(400);
      expect(await redis.exists(`${prefix}before`)).toBe(0);
    });

    it("serves XREAD without BLOCK", async () => {
      await redis.xadd(`${prefix}x`, "*", "f", "v");
      const res = await post("/", ["xread", "COUNT", 1, "STREAMS", `${prefix}x`, "0"]);
      expect(res.status).toBe(200);
    });
  });

  it("works when mounted under /redis like the bridge does", async () => {
    const { Hono } = await import("hono");
    const bridge = new Hono().route("/redis", app);
    const init = (body: unknown) => ({
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(await (await bridge.request("/redis", init(["echo", "hi"]))).json()).toEqual({ result: "hi" });
    expect(await (await bridge.request("/redis/pipeline", init([["echo", "a"]]))).json()).toEqual([{ result: "a" }]);
    // The gateway's own error rendering survives mounting: Upstash shape, not the parent's.
    const unauthorized = await bridge.request("/redis", {
      ...init(["ping"]),
      headers: { "content-type": "application/json" },
    });
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({ error: expect.stringContaining("Unauthorized"), code: "unauthorized" });
    const failed = await bridge.request("/redis", init(["incr", `${prefix}mounted-text`, "x"]));
    expect(failed.status).toBe(400);
    expect(await failed.json()).toEqual({ error: expect.stringMatching(/^ERR /) });
  });
});
