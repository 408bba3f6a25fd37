/**
 * The gateway's hardening against a holder of the REST token, on a Redis server of the suite's
 * own (a FLUSHALL that slipped through, or a runaway script, must never reach the machine's
 * shared Redis): the allow list, Redis's own ACL inside Lua, SCRIPT KILL for a runaway script,
 * and the bounded transaction connections.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type PrivateRedis,
  requireRedisServerBinary,
  startPrivateRedis,
} from "../../test/fuzz/support/private-redis.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../../test/support/redis-gateway-user.ts";
import { createRedisRestApp } from "./app.ts";
import { connectGatewayRedis, startRedisRestServer } from "./serve.ts";

const available = requireRedisServerBinary("redis-rest gateway hardening");
const token = randomBytes(24).toString("hex");
const BUSY_THRESHOLD_MS = 100;

type RestBody = { result?: unknown; error?: string; code?: string };

describe.skipIf(!available)("Redis REST gateway hardening", () => {
  let server: PrivateRedis;
  /** Full access, straight to Redis: seeds and inspects what the gateway must not touch. */
  let admin: Redis;
  /** The gateway's ACL user, as `npm run bridge -- --print-redis-acl` prints it for `edgebus:*`. */
  let user: GatewayRedisUser;
  let gatewayRedis: Redis;
  let app: ReturnType<typeof createRedisRestApp>;

  beforeAll(async () => {
    server = await startPrivateRedis({ busyReplyThresholdMs: BUSY_THRESHOLD_MS });
    admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    user = await createGatewayRedisUser(server.url, { keyPatterns: ["edgebus:*"] });
    gatewayRedis = connectGatewayRedis(user.url);
    app = createRedisRestApp({ redis: gatewayRedis, token, maxTransactionConnections: 3 });
  });
  afterAll(async () => {
    await gatewayRedis?.quit().catch(() => undefined);
    admin?.disconnect();
    await server?.stop();
  });

  function post(path: string, body: unknown, on = app) {
    return on.request(path, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }
  const json = async (res: Response) => (await res.json()) as RestBody;

  /** A key in db 0 and one in db 3 that no request may remove or read. */
  async function seedSentinels(): Promise<void> {
    await admin.set("edgebus:sentinel", "still here");
    await admin.select(3);
    await admin.set("edgebus:other-db", "db 3");
    await admin.select(0);
  }
  async function expectSentinels(): Promise<void> {
    expect(await admin.get("edgebus:sentinel")).toBe("still here");
    await admin.select(3);
    expect(await admin.get("edgebus:other-db")).toBe("db 3");
    await admin.select(0);
  }

  describe("allow list", () => {
    it.each([
      [["keys", "*"]],
      [["function", "list"]],
      [["function", "flush"]],
      [["flushall"]],
      [["FLUSHDB", "ASYNC"]],
      [["select", 3]],
      [["swapdb", 0, 3]],
      [["move", "edgebus:sentinel", 3]],
      [["copy", "edgebus:sentinel", "edgebus:copy", "db", 3]],
      [["restore", "edgebus:restored", 0, "payload"]],
      [["migrate", "127.0.0.1", 1, "edgebus:sentinel", 0, 1000]],
      [["script", "flush"]],
      [["debug", "sleep", "0"]],
      [["config", "get", "*"]],
      [["module", "list"]],
      [["acl", "list"]],
      [["shutdown", "nosave"]],
      [["fcall", "anything", 0]],
      [["object", "encoding", "edgebus:sentinel"]],
      [["nosuchcommand"]],
    ])("refuses %j with 400 in Upstash's error shape, running nothing", async (command) => {
      await seedSentinels();
      const res = await post("/", command);
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.error).toMatch(/^NOPERM .*refused by the REST gateway/);
      await expectSentinels();
    });

    it("refuses a pipeline or transaction holding a refused command before running any of it", async () => {
      await seedSentinels();
      for (const path of ["/pipeline", "/multi-exec"]) {
        const res = await post(path, [["set", "edgebus:before", "1"], ["keys", "*"], ["flushall"]]);
        expect(res.status, path).toBe(400);
        expect(await admin.exists("edgebus:before")).toBe(0);
      }
      await expectSentinels();
    });
  });

  describe("Lua cannot leave the allow list (Redis's ACL checks every call inside a script)", () => {
    it.each([
      ["flushall", "return redis.call('flushall')"],
      ["flushdb", "return redis.call('FLUSHDB')"],
      ["select then flushdb", "redis.call('select', 3) return redis.call('flushdb')"],
      ["select then read", "redis.call('select', 3) return redis.call('get', 'edgebus:other-db')"],
      ["keys", "return redis.call('keys', '*')"],
      ["config set", "return redis.call('config', 'set', 'maxmemory', '1')"],
      ["swapdb", "return redis.call('swapdb', 0, 3)"],
      ["script flush", "return redis.call('script', 'flush')"],
      [
        "pcall flushall",
        "local r = redis.pcall('flushall') if type(r) == 'table' and r.err then return r.err end return 'ran'",
      ],
    ])("%s inside EVAL is refused and the data is still there", async (_, script) => {
      await seedSentinels();
      const maxmemory = await admin.config("GET", "maxmemory");
      const res = await post("/", ["eval", script, 0]);
      const body = await json(res);
      // A pcall turns the refusal into a value the script returns; a call fails the script. (CONFIG
      // and SCRIPT are refused inside scripts by Redis itself as well.)
      const refusal = /can't run this command|not allowed from script/;
      if (res.status === 200) expect(String(body.result)).toMatch(refusal);
      else expect(body.error).toMatch(refusal);
      await expectSentinels();
      expect(await admin.config("GET", "maxmemory")).toEqual(maxmemory);
    });
  });

  describe("the Redis user", () => {
    it("keeps the gateway to its key patterns (Redis answers NOPERM for other keys)", async () => {
      await admin.set("other-app:secret", "theirs");
      const read = await post("/", ["get", "other-app:secret"]);
      expect(read.status).toBe(400);
      expect((await json(read)).error).toMatch(/^NOPERM /);
      const viaLua = await post("/", ["eval", "return redis.call('get', KEYS[1])", 1, "other-app:secret"]);
      expect(viaLua.status).toBe(400);
      expect(await admin.get("other-app:secret")).toBe("theirs");
    });

    it("serves what allowCommands adds for a dedicated Redis, in the gateway and in the ACL user alike", async () => {
      const dedicated = await createGatewayRedisUser(server.url, { keyPatterns: ["*"], allowCommands: ["keys"] });
      const redis = connectGatewayRedis(dedicated.url);
      try {
        const wide = createRedisRestApp({ redis, token, allowCommands: ["KEYS"] });
        const keys = await post("/", ["keys", "edgebus:sentinel"], wide);
        expect(await keys.json()).toEqual({ result: ["edgebus:sentinel"] });
        const stillRefused = await post("/", ["flushall"], wide);
        expect(stillRefused.status).toBe(400);
      } finally {
        await redis.quit();
        await dedicated.drop();
      }
    });

    it("refuses to start as an unrestricted user (the default user) unless allowUnrestrictedUser is set", async () => {
      await expect(startRedisRestServer({ port: 0, redisUrl: server.url, token })).rejects.toThrow(
        /not restricted to the allow list \(CONFIG GET busy-reply-threshold ran\)/,
      );
      const allowed = await startRedisRestServer({ port: 0, redisUrl: server.url, token, allowUnrestrictedUser: true });
      try {
        const res = await fetch(allowed.url, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: '["get","edgebus:sentinel"]',
        });
        expect(await res.json()).toEqual({ result: "still here" });
      } finally {
        await allowed.close();
      }
    });

    it("answers 503 over an unrestricted user that was not allowed, running nothing", async () => {
      const redis = connectGatewayRedis(server.url);
      try {
        const unguarded = createRedisRestApp({ redis, token });
        const res = await post("/", ["set", "edgebus:should-not-exist", "1"], unguarded);
        expect(res.status).toBe(503);
        expect(await json(res)).toEqual({
          error: expect.stringContaining("its Redis user is not restricted"),
          code: "upstream_unavailable",
        });
        expect(await admin.exists("edgebus:should-not-exist")).toBe(0);
      } finally {
        await redis.quit();
      }
    });
  });

  describe("a runaway script", () => {
    it("surfaces BUSY in Upstash's shape and is stopped by SCRIPT KILL through the gateway", async () => {
      await seedSentinels();
      const runaway = post("/", ["eval", "while true do end", 0]);
      // Past the busy threshold, other connections get BUSY: here a transaction's connection.
      let busy: RestBody = {};
      let status = 0;
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, BUSY_THRESHOLD_MS));
        const res = await post("/multi-exec", [["get", "edgebus:sentinel"]]);
        status = res.status;
        busy = await json(res);
        if (busy.error?.includes("BUSY")) break;
      }
      expect(status).toBe(400);
      expect(busy.error).toMatch(/BUSY Redis is busy running a script/);

      const kill = await post("/", ["script", "kill"]);
      expect(await kill.json()).toEqual({ result: "OK" });
      const stopped = await runaway;
      expect(stopped.status).toBe(400);
      expect((await json(stopped)).error).toMatch(/Script killed by user/);
      expect(await admin.ping()).toBe("PONG");
      expect(await (await post("/", ["get", "edgebus:sentinel"])).json()).toEqual({ result: "still here" });
      await expectSentinels();
    });

    it("answers SCRIPT KILL with Redis's NOTBUSY when nothing runs", async () => {
      const res = await post("/", ["script", "kill"]);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toMatch(/^NOTBUSY /);
    });
  });

  describe("transactions", () => {
    it("use at most maxTransactionConnections connections; the rest get 503 with Retry-After", async () => {
      const connectionsBefore = Number(/total_connections_received:(\d+)/.exec(await admin.info("stats"))?.[1]);
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          post("/multi-exec", [
            ["set", `edgebus:tx:${i}`, "v"],
            ["get", `edgebus:tx:${i}`],
          ]),
        ),
      );
      const connectionsAfter = Number(/total_connections_received:(\d+)/.exec(await admin.info("stats"))?.[1]);
      const statuses = answers.map((res) => res.status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
      expect(
        statuses.every((s) => s === 200 || s === 503),
        statuses.join(","),
      ).toBe(true);
      const refused = answers.filter((res) => res.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const res of refused) {
        expect(res.headers.get("retry-after")).toBe("1");
        expect(await json(res)).toEqual({
          error: expect.stringContaining("transaction"),
          code: "upstream_unavailable",
        });
      }
      // At most three transaction connections were opened (plus none for anything else).
      expect(connectionsAfter - connectionsBefore).toBeLessThanOrEqual(3);
      // Once they are back, the next transactions are served again.
      const again = await post("/multi-exec", [["get", "edgebus:tx:0"]]);
      expect(await again.json()).toEqual([{ result: "v" }]);
    });
  });
});
