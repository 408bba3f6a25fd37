/**
 * `POST /redis`, `/redis/pipeline` and `/redis/multi-exec` on the lean routes answer exactly as
 * the Hono routes: the same requests (valid commands, pipelines and transactions, base64
 * answers, Redis errors, missing and wrong tokens, commands off the allow list or the token's
 * scope (NOPERM), malformed and oversized bodies, a spent body budget) sent to the gateway served
 * with and without the lean routes give the same status, headers and body, byte for byte. Both sides run against the same
 * real Redis as the gateway's restricted ACL user; each request leaves Redis as it found it (or
 * sets the same values), so the second side sees what the first saw.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { type RawRequest, rawRequest, type ServedPair, servePair } from "../../test/support/lean-and-hono.ts";
import { createGatewayRedisUser, type GatewayRedisUser } from "../../test/support/redis-gateway-user.ts";
import { requireService } from "../../test/support/services.ts";
import { BodyBudget, closeUnreadBodies } from "../http/bounded-body.ts";
import { createRedisRestGateway, type RedisRestGateway } from "./app.ts";

const available = await requireService("redis", "redis-rest lean routes");
const token = randomBytes(24).toString("hex");
const readToken = randomBytes(24).toString("hex");
const prefix = `t:redis-lean:${randomUUID()}:`;
const MAX_BYTES = 2048;

describe.skipIf(!available)("Redis REST: lean routes and Hono routes answer alike", () => {
  let admin: Redis;
  let user: GatewayRedisUser;
  const connections: Redis[] = [];
  let pair: ServedPair;
  let budgeted: ServedPair;
  const leanAnswers: { path: string; status: number }[] = [];

  /** A gateway of its own (own connection, runner and scripts), mounted as the bridge mounts it. */
  const gateway = (bodyBudgetBytes?: number): { app: Hono; gateway: RedisRestGateway } => {
    const redis = new Redis(user.url, { maxRetriesPerRequest: 1, enableReadyCheck: false });
    connections.push(redis);
    const built = createRedisRestGateway({
      redis,
      token,
      readOnlyTokens: [readToken],
      subscriptions: false,
      maxRequestBytes: MAX_BYTES,
      maxCommands: 5,
      ...(bodyBudgetBytes === undefined ? {} : { bodyBudget: new BodyBudget(bodyBudgetBytes) }),
    });
    return { app: new Hono().use("*", closeUnreadBodies).route("/redis", built.app), gateway: built };
  };

  beforeAll(async () => {
    admin = new Redis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    user = await createGatewayRedisUser(serviceUrls.redis);
    const [hono, lean] = [gateway(), gateway()];
    pair = await servePair(hono.app, lean.app, lean.gateway.leanRoutes("/redis"), {
      onAnswered: (path, status) => leanAnswers.push({ path, status }),
    });
    const [tightHono, tightLean] = [gateway(16), gateway(16)];
    budgeted = await servePair(tightHono.app, tightLean.app, tightLean.gateway.leanRoutes("/redis"));
  });
  afterAll(async () => {
    await pair?.close();
    await budgeted?.close();
    const keys = (await admin?.keys(`${prefix}*`)) ?? [];
    if (keys.length > 0) await admin.del(...keys);
    await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    await user?.drop();
    await admin?.quit();
  });

  const same = async (spec: RawRequest, served: ServedPair = pair) => {
    const before = leanAnswers.length;
    const viaHono = await rawRequest(served.hono, spec);
    const viaLean = await rawRequest(served.lean, spec);
    expect(viaLean).toEqual(viaHono);
    return { answer: viaLean, servedLean: leanAnswers.length > before };
  };
  const bearer = (value: string) => ({ authorization: `Bearer ${value}`, "content-type": "application/json" });
  const post = (path: string, body: unknown, headers: Record<string, string> = bearer(token)): RawRequest => ({
    method: "POST",
    path,
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const base64 = { ...bearer(token), "upstash-encoding": "base64" };
  const key = (name: string) => `${prefix}${name}`;

  it("a single command, a pipeline and a transaction, plain and base64", async () => {
    const set = await same(post("/redis", ["set", key("a"), "ă ș 🙂"]));
    expect(set.servedLean).toBe(true);
    expect(JSON.parse(set.answer.body)).toEqual({ result: "OK" });
    const get = await same(post("/redis", ["get", key("a")], base64));
    expect(JSON.parse(get.answer.body)).toEqual({ result: Buffer.from("ă ș 🙂").toString("base64") });
    const pipeline = [
      ["set", key("p"), "v", "ex", 60],
      ["get", key("p")],
      ["exists", key("p"), key("missing")],
      ["get", key("missing")],
    ];
    for (const headers of [bearer(token), base64]) {
      const piped = await same(post("/redis/pipeline", pipeline, headers));
      expect(piped.servedLean).toBe(true);
      expect(JSON.parse(piped.answer.body)).toHaveLength(4);
      const multi = await same(post("/redis/multi-exec", pipeline, headers));
      expect(multi.servedLean).toBe(true);
      expect(multi.answer.status).toBe(200);
    }
  });

  it("the token in the query (_token) and a query string beside it", async () => {
    const viaQuery = await same(post(`/redis/pipeline?_token=${token}`, [["ping"]], {}));
    expect(viaQuery.servedLean).toBe(true);
    expect(JSON.parse(viaQuery.answer.body)).toEqual([{ result: "PONG" }]);
    expect((await same(post(`/redis?x=1&_token=${token}`, ["ping"], {}))).answer.status).toBe(200);
    expect((await same(post("/redis?_token=nope-nope-nope-nope", ["ping"], {}))).answer.status).toBe(401);
  });

  it("Redis errors: in place inside a pipeline, 400 for a single command and a discarded transaction", async () => {
    await admin.set(key("text"), "not a number");
    const piped = await same(
      post("/redis/pipeline", [
        ["incr", key("text")],
        ["get", key("text")],
      ]),
    );
    expect(piped.answer.status).toBe(200);
    expect(JSON.parse(piped.answer.body)).toEqual([
      { error: "ERR value is not an integer or out of range" },
      { result: "not a number" },
    ]);
    expect((await same(post("/redis", ["incr", key("text")]))).answer.status).toBe(400);
    const discarded = await same(
      post("/redis/multi-exec", [
        ["set", key("x")],
        ["get", key("x")],
      ]),
    );
    expect(discarded.answer.status).toBe(400);
    // A runtime error inside EXEC stays in place.
    const inExec = await same(
      post("/redis/multi-exec", [
        ["incr", key("text")],
        ["get", key("text")],
      ]),
    );
    expect(inExec.answer.status).toBe(200);
  });

  it("401 without a token, with a wrong one and with two Authorization headers", async () => {
    expect((await same(post("/redis/pipeline", [["ping"]], {}))).answer.status).toBe(401);
    expect((await same(post("/redis/multi-exec", [["ping"]], bearer(`${token}x`)))).answer.status).toBe(401);
    expect((await same(post("/redis", ["ping"], { authorization: "Basic abc" }))).answer.status).toBe(401);
    const twice = await same(
      post("/redis", ["ping"], { authorization: [`Bearer ${token}`, `Bearer ${token}`] } as never),
    );
    expect(twice.answer.status).toBe(401);
  });

  it("NOPERM (400, as Upstash answers) for a command off the allow list and a write with a read-only token", async () => {
    const noperm = { error: expect.stringMatching(/^NOPERM /), code: "bad_request" };
    const off = await same(post("/redis/pipeline", [["ping"], ["flushall"]]));
    expect(off.answer.status).toBe(400);
    expect(JSON.parse(off.answer.body)).toEqual(noperm);
    expect((await same(post("/redis", ["config", "get", "*"]))).answer.status).toBe(400);
    const write = await same(post("/redis/multi-exec", [["set", key("r"), "v"]], bearer(readToken)));
    expect(write.answer.status).toBe(400);
    expect(JSON.parse(write.answer.body)).toEqual(noperm);
    const read = await same(post("/redis/pipeline", [["get", key("r")]], bearer(readToken)));
    expect(read.answer.status).toBe(200);
  });

  it("400 for malformed JSON, a body off the protocol, an empty body; 413 over the command count", async () => {
    for (const path of ["/redis", "/redis/pipeline", "/redis/multi-exec"]) {
      for (const body of ['["get"', "{}", "", "[]", "[[]]", '[["get", {"a":1}]]', "\uFEFF[1e999]"]) {
        const { answer } = await same(post(path, body));
        expect(answer.status).toBe(400);
      }
    }
    const many = Array.from({ length: 6 }, () => ["ping"]);
    expect((await same(post("/redis/pipeline", many))).answer.status).toBe(413);
  });

  it("413 over maxRequestBytes, declared or chunked, closing the connection", async () => {
    const declared = await same(post("/redis/pipeline", [["set", key("big"), "x".repeat(MAX_BYTES)]]));
    expect(declared.answer.status).toBe(413);
    expect(declared.answer.headers).toContainEqual(["connection", "close"]);
    const chunked = await same({
      method: "POST",
      path: "/redis",
      headers: bearer(token),
      chunks: [`["set","${key("big")}","`, "y".repeat(MAX_BYTES / 2), "y".repeat(MAX_BYTES / 2), '"]'],
    });
    expect(chunked.answer.status).toBe(413);
  });

  it("429 with Retry-After when the body budget is spent", async () => {
    const { answer } = await same(post("/redis/pipeline", [["get", key("budget")]]), budgeted);
    expect(answer.status).toBe(429);
    expect(answer.headers).toContainEqual(["retry-after", "1"]);
  });

  it("every other form still reaches the Hono app", async () => {
    const put = await same({ ...post("/redis/pipeline", [["ping"]]), method: "PUT" });
    expect(put.servedLean).toBe(false);
    expect(put.answer.status).toBe(200);
    const trailing = await same(post("/redis/", ["ping"]));
    expect(trailing.servedLean).toBe(false);
    const pathStyle = await same({ method: "GET", path: "/redis/get/missing", headers: bearer(token) });
    expect(pathStyle.servedLean).toBe(false);
    expect(pathStyle.answer.status).toBe(200);
    const getPipeline = await same({ method: "GET", path: "/redis/pipeline", headers: bearer(token) });
    expect(getPipeline.answer.status).toBe(405);
  });
});
