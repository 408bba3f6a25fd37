import { randomBytes, randomUUID } from "node:crypto";
import { connect } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Redis } from "@upstash/redis";
import { Hono } from "hono";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../../test/support/redis-gateway-user.ts";
import { requireService } from "../../test/support/services.ts";
import { createRedisRestApp } from "./app.ts";
import { RedisSubscriptions } from "./subscriptions.ts";

const available = await requireService("redis", "redis-rest gateway (Upstash's documented forms)");
const fullToken = randomBytes(24).toString("hex");
const previousFullToken = randomBytes(24).toString("hex");
const readOnlyToken = randomBytes(24).toString("hex");
const previousReadOnlyToken = randomBytes(24).toString("hex");
const prefix = `t:forms:${randomUUID()}:`;
const LIMITS = { maxStreams: 4, maxChannelsPerStream: 3, maxBufferedBytes: 64 * 1024, heartbeatMs: 200 };

/**
 * The forms Upstash documents for its Redis REST API (path style, `_token`, a command body without
 * a JSON content type, pipeline and multi-exec), the read-only token and pub/sub over SSE, each
 * with the real `@upstash/redis` client where it has a method for it and otherwise as the raw
 * HTTP request the documented curl line sends. The gateway is mounted under `/redis` as in the
 * bridge and served over real HTTP.
 */
describe.skipIf(!available)("Upstash Redis REST forms", () => {
  let user: GatewayRedisUser;
  let narrowUser: GatewayRedisUser;
  let gatewayRedis: IORedis;
  let narrowRedis: IORedis;
  let admin: IORedis;
  let subscriptions: RedisSubscriptions;
  let server: ServerType;
  let base: string;
  const url = () => `${base}/redis`;
  const client = (token: string) => new Redis({ url: url(), token, retry: { retries: 0 }, enableTelemetry: false });

  beforeAll(async () => {
    admin = new IORedis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    user = await createGatewayRedisUser(serviceUrls.redis);
    // A gateway whose ACL user may touch only this run's keys and channels.
    narrowUser = await createGatewayRedisUser(serviceUrls.redis, { keyPatterns: [`${prefix}*`] });
    gatewayRedis = new IORedis(user.url, { maxRetriesPerRequest: 1 });
    narrowRedis = new IORedis(narrowUser.url, { maxRetriesPerRequest: 1 });
    subscriptions = new RedisSubscriptions(gatewayRedis, LIMITS);
    const app = new Hono();
    app.route(
      "/redis",
      createRedisRestApp({
        redis: gatewayRedis,
        token: [fullToken, previousFullToken],
        readOnlyTokens: [readOnlyToken, previousReadOnlyToken],
        subscriptions,
      }),
    );
    app.route("/narrow", createRedisRestApp({ redis: narrowRedis, token: fullToken }));
    server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
    });
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    subscriptions?.closeAll();
    await new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await gatewayRedis?.quit();
    await narrowRedis?.quit();
    await user?.drop();
    await narrowUser?.drop();
    await admin.quit();
  });

  const bearer = (token = fullToken) => ({ authorization: `Bearer ${token}` });
  const body = async (res: Response) => (await res.json()) as { result?: unknown; error?: string };

  describe("path style (curl $URL/set/foo/bar)", () => {
    it("runs SET and GET from path segments, with GET as the method", async () => {
      const set = await fetch(`${url()}/set/${prefix}foo/bar`, { headers: bearer() });
      expect(set.status).toBe(200);
      expect(await set.json()).toEqual({ result: "OK" });
      expect(await body(await fetch(`${url()}/get/${prefix}foo`, { headers: bearer() }))).toEqual({ result: "bar" });
      expect(await admin.get(`${prefix}foo`)).toBe("bar");
    });

    it("percent-decodes each segment, takes extra arguments and answers in base64 when asked", async () => {
      const key = encodeURIComponent(`${prefix}a/b`);
      const set = await fetch(`${url()}/set/${key}/${encodeURIComponent("hello wörld/✓")}/EX/100`, {
        method: "POST",
        headers: bearer(),
      });
      expect(await body(set)).toEqual({ result: "OK" });
      expect(await admin.get(`${prefix}a/b`)).toBe("hello wörld/✓");
      expect(await admin.ttl(`${prefix}a/b`)).toBeGreaterThan(90);
      const encoded = await fetch(`${url()}/GET/${key}`, { headers: { ...bearer(), "upstash-encoding": "base64" } });
      expect(await body(encoded)).toEqual({ result: Buffer.from("hello wörld/✓").toString("base64") });
      await admin.set(`${prefix}m1`, "1");
      const mget = await fetch(`${url()}/mget/${prefix}m1/${prefix}missing`, { headers: bearer() });
      expect(await body(mget)).toEqual({ result: ["1", null] });
      const zadd = await fetch(`${url()}/zadd/${prefix}teams/100/team-x/90/team-y`, { headers: bearer() });
      expect(await body(zadd)).toEqual({ result: 2 });
    });

    it("appends a POST body as the last argument, raw bytes included, then the query arguments", async () => {
      // curl -X POST -d '$VALUE' $URL/set/foo?EX=100 (curl's -d sends a form content type)
      const json = '{"citizen":"c-1","tags":["a","b"]}';
      const set = await fetch(`${url()}/set/${prefix}json?EX=100`, {
        method: "POST",
        headers: { ...bearer(), "content-type": "application/x-www-form-urlencoded" },
        body: json,
      });
      expect(await body(set)).toEqual({ result: "OK" });
      expect(await admin.get(`${prefix}json`)).toBe(json);
      expect(await admin.ttl(`${prefix}json`)).toBeGreaterThan(90);
      const binary = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x80]);
      await fetch(`${url()}/set/${prefix}bin`, { method: "POST", headers: bearer(), body: binary });
      expect(await admin.getBuffer(`${prefix}bin`)).toEqual(binary);
      const read = await fetch(`${url()}/get/${prefix}bin`, { headers: { ...bearer(), "upstash-encoding": "base64" } });
      expect(await body(read)).toEqual({ result: binary.toString("base64") });
      // A bare query flag is one argument: SET key value NX.
      const nx = await fetch(`${url()}/set/${prefix}json?NX`, { method: "POST", headers: bearer(), body: "other" });
      expect(await body(nx)).toEqual({ result: null });
    });

    it("keeps Redis errors and the allow list: 400 {error}", async () => {
      const wrongArity = await fetch(`${url()}/get`, { headers: bearer() });
      expect(wrongArity.status).toBe(400);
      expect((await body(wrongArity)).error).toMatch(/wrong number of arguments/);
      const flush = await fetch(`${url()}/flushall`, { headers: bearer() });
      expect(flush.status).toBe(400);
      expect((await body(flush)).error).toMatch(/^NOPERM/);
      expect(await body(await fetch(`${url()}/ping`, { headers: bearer() }))).toEqual({ result: "PONG" });
    });
  });

  describe("the token", () => {
    it("is accepted as the _token query parameter, and never taken as an argument", async () => {
      const set = await fetch(`${url()}/set/${prefix}q/bar?_token=${fullToken}`);
      expect(await body(set)).toEqual({ result: "OK" });
      const info = await fetch(`${url()}/ping?_token=${fullToken}`, { method: "POST" });
      expect(await body(info)).toEqual({ result: "PONG" });
      const wrong = await fetch(`${url()}/get/${prefix}q?_token=${fullToken}x`);
      expect(wrong.status).toBe(401);
      expect((await body(wrong)).error).toMatch(/Unauthorized/);
      expect((await fetch(`${url()}/get/${prefix}q`)).status).toBe(401);
    });

    it("rotates: the previous full and read-only tokens are accepted too", async () => {
      expect(await client(previousFullToken).set(`${prefix}rot`, "v")).toBe("OK");
      expect(await client(previousReadOnlyToken).get(`${prefix}rot`)).toBe("v");
    });
  });

  describe("POST command in body (curl -X POST -d '[...]' $URL)", () => {
    it("reads the JSON command whatever the content type", async () => {
      // fetch sends a string body as text/plain; curl -d as a form.
      for (const headers of [bearer(), { ...bearer(), "content-type": "application/x-www-form-urlencoded" }]) {
        const res = await fetch(url(), { method: "POST", headers, body: `["SET", "${prefix}b", "bar", "EX", 100]` });
        expect(await body(res)).toEqual({ result: "OK" });
      }
      expect(await admin.ttl(`${prefix}b`)).toBeGreaterThan(90);
    });

    it("runs /pipeline and /multi-exec bodies without a JSON content type", async () => {
      const commands = `[["SET", "${prefix}p1", "valuex"], ["SETEX", "${prefix}p2", 13, "valuez"], ["INCR", "${prefix}p1"], ["ZADD", "${prefix}pz", 11, "item1", 22, "item2"]]`;
      const expected = [
        { result: "OK" },
        { result: "OK" },
        { error: "ERR value is not an integer or out of range" },
        { result: 2 },
      ];
      const pipeline = await fetch(`${url()}/pipeline`, { method: "POST", headers: bearer(), body: commands });
      expect(await pipeline.json()).toEqual(expected);
      await admin.del(`${prefix}pz`);
      const tx = await fetch(`${url()}/multi-exec`, { method: "POST", headers: bearer(), body: commands });
      expect(await tx.json()).toEqual(expected);
    });
  });

  describe("the read-only token", () => {
    it("reads with the real client, and every write answers NOPERM", async () => {
      await admin.set(`${prefix}ro`, "seen");
      await admin.hset(`${prefix}roh`, { a: "1" });
      const reader = client(readOnlyToken);
      expect(await reader.get(`${prefix}ro`)).toBe("seen");
      expect(await reader.hgetall(`${prefix}roh`)).toEqual({ a: 1 });
      expect(await reader.exists(`${prefix}ro`)).toBe(1);
      await expect(reader.set(`${prefix}ro`, "changed")).rejects.toThrow(/NOPERM.*read-only token/);
      await expect(reader.del(`${prefix}ro`)).rejects.toThrow(/NOPERM/);
      await expect(reader.incr(`${prefix}ro-counter`)).rejects.toThrow(/NOPERM/);
      await expect(reader.publish(`${prefix}chat`, "x")).rejects.toThrow(/NOPERM/);
      // Scripts: only the _RO variants, which Redis itself runs with writes refused.
      await expect(reader.eval("return 1", [], [])).rejects.toThrow(/NOPERM/);
      expect(await reader.evalRo("return redis.call('get', KEYS[1])", [`${prefix}ro`], [])).toBe("seen");
      await expect(reader.evalRo("return redis.call('set', KEYS[1], 'x')", [`${prefix}ro`], [])).rejects.toThrow(
        /[Ww]rite commands are not allowed/,
      );
      // A transaction with one write is refused whole, nothing runs.
      const tx = reader.multi();
      tx.get(`${prefix}ro`);
      tx.set(`${prefix}ro`, "tx");
      await expect(tx.exec()).rejects.toThrow(/NOPERM/);
      expect(await admin.get(`${prefix}ro`)).toBe("seen");
    });

    it("is refused the keyspace-wide reads Upstash withholds, and what the allow list refuses", async () => {
      for (const path of ["/scan/0", "/randomkey", "/keys/*", "/flushall"]) {
        const res = await fetch(`${url()}${path}`, { headers: bearer(readOnlyToken) });
        expect(res.status, path).toBe(400);
        expect((await body(res)).error, path).toMatch(/^NOPERM/);
      }
      // Path style and _token work for it as for the full token.
      const read = await fetch(`${url()}/get/${prefix}ro?_token=${readOnlyToken}`);
      expect(await body(read)).toEqual({ result: "seen" });
    });
  });

  describe("pub/sub over Server-Sent Events", () => {
    async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error("timed out");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    it("delivers to @upstash/redis subscribe() and publish reports every receiver", async () => {
      const channel = `${prefix}chat`;
      const publisher = client(fullToken);
      const received: { channel: string; message: unknown }[][] = [[], []];
      const counts: number[] = [];
      const errors: unknown[] = [];
      const subscribers = [client(fullToken).subscribe([channel]), client(readOnlyToken).subscribe([channel])];
      subscribers.forEach((subscriber, i) => {
        subscriber.on("subscribe", (count) => counts.push(count as number));
        subscriber.on("message", (event) => received[i]?.push(event as { channel: string; message: unknown }));
        subscriber.on("error", (error) => errors.push(error));
      });
      await until(() => counts.length === 2);
      expect(counts).toEqual([1, 1]);
      expect(subscriptions.size).toBe(2);
      expect(await publisher.publish(channel, "hello")).toBe(2);
      expect(await publisher.publish(channel, { citizen: "c-1", n: 3 })).toBe(2);
      await until(() => received.every((list) => list.length === 2));
      for (const list of received) {
        expect(list).toEqual([
          { channel, message: "hello" },
          { channel, message: { citizen: "c-1", n: 3 } },
        ]);
      }
      // Unsubscribing aborts the request: the bridge closes that stream's Redis connection.
      await subscribers[0]?.unsubscribe();
      await until(() => subscriptions.size === 1);
      await until(async () => (await publisher.publish(channel, "after")) === 1);
      await subscribers[1]?.unsubscribe();
      await until(() => subscriptions.size === 0);
      expect(await publisher.publish(channel, "nobody")).toBe(0);
      expect(errors).toEqual([]);
    });

    it("delivers pattern messages to psubscribe()", async () => {
      const pattern = `${prefix}news:*`;
      const events: { pattern: string; channel: string; message: unknown }[] = [];
      let subscribed = 0;
      const subscriber = client(fullToken).psubscribe([pattern]);
      subscriber.on("psubscribe", (count) => {
        subscribed = count as number;
      });
      subscriber.on("pmessage", (event) => events.push(event as (typeof events)[number]));
      await until(() => subscribed === 1);
      // The client JSON-parses pattern messages (plain text there is its "error" event): publish JSON.
      expect(await client(fullToken).publish(`${prefix}news:local`, { forecast: "rain" })).toBe(1);
      await until(() => events.length === 1);
      expect(events[0]).toEqual({ pattern, channel: `${prefix}news:local`, message: { forecast: "rain" } });
      await subscriber.unsubscribe();
      await until(() => subscriptions.size === 0);
    });

    it("answers the documented curl form with data: lines, several channels in one stream", async () => {
      const [a, b] = [`${prefix}raw-a`, `${prefix}raw-b`];
      const controller = new AbortController();
      const res = await fetch(`${url()}/subscribe/${a}/${b}`, {
        method: "POST",
        headers: { ...bearer(), accept: "text/event-stream" },
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = "";
      const readUntil = async (needle: string) => {
        while (!text.includes(needle)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${needle}`);
          text += new TextDecoder().decode(value);
        }
      };
      await readUntil(`data: subscribe,${b},2`);
      expect(text).toContain(`data: subscribe,${a},1\n`);
      await admin.publish(b, "how are you today?");
      await readUntil("today?");
      expect(text).toContain(`data: message,${b},how are you today?\n`);
      await readUntil(": keepalive");
      controller.abort();
      await until(() => subscriptions.size === 0);
    });

    it("bounds channels per stream and streams per bridge, and refuses channels outside the ACL user's", async () => {
      const headers = { ...bearer(), accept: "text/event-stream" };
      const tooMany = await fetch(`${url()}/subscribe/${prefix}1/${prefix}2/${prefix}3/${prefix}4`, {
        method: "POST",
        headers,
      });
      expect(tooMany.status).toBe(400);
      expect((await body(tooMany)).error).toMatch(/at most 3 channels/);
      const controllers = Array.from({ length: LIMITS.maxStreams }, () => new AbortController());
      const open = await Promise.all(
        controllers.map((controller, i) =>
          fetch(`${url()}/subscribe/${prefix}cap${i}`, { method: "POST", headers, signal: controller.signal }),
        ),
      );
      expect(open.map((r) => r.status)).toEqual(open.map(() => 200));
      const refused = await fetch(`${url()}/subscribe/${prefix}cap-extra`, { method: "POST", headers });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      for (const controller of controllers) controller.abort();
      await until(() => subscriptions.size === 0);
      const outside = await fetch(`${base}/narrow/subscribe/not-this-run`, { method: "POST", headers });
      expect(outside.status).toBe(400);
      expect((await body(outside)).error).toMatch(/^NOPERM/);
      const inside = new AbortController();
      const allowed = await fetch(`${base}/narrow/subscribe/${prefix}ok`, {
        method: "POST",
        headers,
        signal: inside.signal,
      });
      expect(allowed.status).toBe(200);
      inside.abort();
    });

    it("ends the stream of a client that stops reading, and frees its Redis connection", async () => {
      const channel = `${prefix}slow`;
      const socket = connect(Number(new URL(base).port), "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(
        `GET /redis/subscribe/${channel} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${fullToken}\r\nAccept: text/event-stream\r\n\r\n`,
      );
      await until(async () => (await admin.pubsub("NUMSUB", channel))[1] === 1);
      socket.pause();
      const chunk = "x".repeat(64 * 1024);
      // The kernel's socket buffers take the first megabytes; past them the bridge's own buffer grows.
      await until(async () => {
        await admin.publish(channel, chunk);
        return subscriptions.size === 0;
      }, 20_000);
      await until(async () => (await admin.pubsub("NUMSUB", channel))[1] === 0);
      socket.destroy();
    });
  });

  it("answers MONITOR with 400: it is not served", async () => {
    const res = await fetch(`${url()}/monitor`, { method: "POST", headers: bearer() });
    expect(res.status).toBe(400);
    expect((await body(res)).error).toMatch(/MONITOR is not served/);
  });
});
