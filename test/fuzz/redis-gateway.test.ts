/**
 * Hostile Redis REST calls against a real bridge process (`bridges/main.ts`, only `/redis`
 * enabled, so no Kafka is needed) on a private redis-server, connected as the gateway's ACL user
 * as deployed: refused commands in any case, position and route, and hostile Lua — FLUSHALL,
 * SELECT, KEYS, CONFIG, SWAPDB, FUNCTION, keys outside the patterns inside scripts, `pcall`
 * wrappers, and infinite loops that are then stopped with SCRIPT KILL through the gateway.
 *
 * Every answer must be below 500 and in the Upstash shape; nothing of a refused call may reach
 * Redis; the sentinels (a key outside the key patterns, a key in another database), the server's
 * configuration, its ACL users and its (empty) function library must survive every run; and the
 * process must keep serving without logging an internal error.
 *
 * Runs per property: EDGEBUS_FUZZ_RUNS (full form) or the short defaults below (CI).
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBridgeChild } from "../support/child-process.ts";
import { createGatewayRedisUser } from "../support/redis-gateway-user.ts";
import { bridgeRejectionProblem } from "./bridge-answers.ts";
import { FuzzTally, fuzzParameters, fuzzTimeoutMs, parseFuzzSettings } from "./support/fuzz-settings.ts";
import { httpExchange } from "./support/http-exchange.ts";
import { freePort, type PrivateRedis, requireRedisServerBinary, startPrivateRedis } from "./support/private-redis.ts";

const settings = parseFuzzSettings(process.env);
const tally = new FuzzTally("redis gateway");
const available = requireRedisServerBinary("Redis REST gateway hostile-input fuzz");
/** Low, so a runaway script costs a run a fraction of a second before SCRIPT KILL is accepted. */
const BUSY_THRESHOLD_MS = 50;

/** Commands a token holder must never run, by name and with plausible arguments. */
const REFUSED: readonly (readonly string[])[] = [
  ["flushall"],
  ["flushall", "async"],
  ["flushdb"],
  ["flushdb", "sync"],
  ["keys", "*"],
  ["select", "3"],
  ["swapdb", "0", "3"],
  ["move", "fuzz:a", "3"],
  ["copy", "fuzz:a", "fuzz:b", "db", "3"],
  ["restore", "fuzz:r", "0", "\u0000\u0001"],
  ["migrate", "127.0.0.1", "1", "fuzz:a", "0", "100"],
  ["function", "list"],
  ["function", "flush"],
  ["function", "load", "#!lua name=x\nredis.register_function('x', function() return 1 end)"],
  ["fcall", "x", "0"],
  ["script", "flush"],
  ["debug", "sleep", "0"],
  ["debug", "object", "fuzz:a"],
  ["config", "set", "maxmemory", "1"],
  ["config", "get", "*"],
  ["config", "rewrite"],
  ["acl", "setuser", "intruder", "on", "nopass", "+@all", "~*"],
  ["acl", "list"],
  ["module", "load", "/tmp/x.so"],
  ["shutdown", "nosave"],
  ["save"],
  ["bgsave"],
  ["bgrewriteaof"],
  ["replicaof", "127.0.0.1", "1"],
  ["slaveof", "no", "one"],
  ["client", "kill", "type", "normal"],
  ["client", "list"],
  ["monitor"],
  ["info"],
  ["object", "encoding", "fuzz:a"],
  ["dump", "fuzz:a"],
  ["sort", "fuzz:l", "by", "other:*"],
  ["blpop", "fuzz:l", "0"],
  ["xread", "block", "0", "streams", "fuzz:x", "$"],
  ["subscribe", "fuzz"],
  ["multi"],
  ["exec"],
  ["auth", "default", "x"],
  ["hello", "3", "auth", "default", "x"],
  ["latency", "reset"],
  ["memory", "purge"],
  ["lastsave"],
  ["failover"],
  ["cluster", "info"],
  ["wait", "1", "0"],
];

/** What a hostile script tries from inside Lua, where only Redis's ACL can refuse it. */
const LUA_ATTACKS: readonly string[] = [
  "flushall",
  "flushdb",
  "'select', 3",
  "'select', '0'",
  "'keys', '*'",
  "'config', 'set', 'maxmemory', '1'",
  "'config', 'get', '*'",
  "'swapdb', 0, 3",
  "'move', 'fuzz:a', 3",
  "'copy', 'fuzz:a', 'fuzz:b', 'db', 3",
  "'script', 'flush'",
  "'function', 'flush'",
  "'function', 'list'",
  "'debug', 'sleep', '0'",
  "'acl', 'setuser', 'intruder', 'on', 'nopass', '+@all', '~*'",
  "'restore', 'fuzz:r', 0, 'x'",
  "'get', 'other:sentinel'",
  "'del', 'other:sentinel'",
  "'set', 'other:sentinel', 'overwritten'",
  "'rename', 'other:sentinel', 'fuzz:stolen'",
  "'publish', 'other:channel', 'x'",
  "'shutdown', 'nosave'",
  "'client', 'kill', 'type', 'normal'",
  "'eval', 'return 1', 0",
];

/** Mixed case: the allow list must not be a case-sensitive string compare. */
function mixedCase(text: string, seed: number): string {
  return [...text].map((ch, i) => ((seed >> (i % 30)) & 1 ? ch.toUpperCase() : ch.toLowerCase())).join("");
}

type Route = "/redis" | "/redis/pipeline" | "/redis/multi-exec";
type Delivery = "eval" | "eval_ro" | "evalsha";

interface Attack {
  readonly script: string;
  readonly loops: boolean;
}

const luaAttack: fc.Arbitrary<Attack> = fc
  .record({
    target: fc.constantFrom(...LUA_ATTACKS),
    call: fc.constantFrom("call", "pcall"),
    seed: fc.nat(),
    loop: fc.constantFrom(
      "none",
      "while true do end",
      "repeat until false",
      "for i = 1, math.huge do end",
      "local t = 0 while true do t = t + 1 end",
    ),
    loopFirst: fc.boolean(),
  })
  .map(({ target, call, seed, loop, loopFirst }) => {
    const [first, ...rest] = target.startsWith("'") ? target.split(", ") : [`'${target}'`];
    const name = mixedCase(String(first).replaceAll("'", ""), seed);
    const args = [`'${name}'`, ...rest].join(", ");
    const attempt = call === "pcall" ? `local r = redis.pcall(${args})` : `local r = redis.call(${args})`;
    const body =
      loop === "none"
        ? `${attempt}\nreturn 'ran'`
        : loopFirst
          ? `${loop}\n${attempt}\nreturn 'ran'`
          : // A pcall that was refused leaves the script read-only, so the loop stays killable.
            `${call === "pcall" ? attempt : `pcall(function() ${attempt} end)`}\n${loop}\nreturn 'ran'`;
    return { script: body, loops: loop !== "none" };
  });

describe.runIf(available)("Redis REST gateway under hostile input", { timeout: fuzzTimeoutMs(settings) }, () => {
  let server: PrivateRedis;
  let admin: Redis;
  let child: ChildProcess;
  let configDir: string;
  let url: string;
  let output: () => string = () => "";
  const token = `redis-fuzz-${randomBytes(12).toString("hex")}`;
  const before: { config: string[]; users: string[] } = { config: [], users: [] };

  beforeAll(async () => {
    server = await startPrivateRedis({ busyReplyThresholdMs: BUSY_THRESHOLD_MS });
    admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    const user = await createGatewayRedisUser(server.url, { keyPatterns: ["fuzz:*"] });
    await admin.set("other:sentinel", "theirs");
    await admin.select(3);
    await admin.set("fuzz:db3", "another database");
    await admin.select(0);
    before.config = await configSnapshot();
    before.users = ((await admin.call("ACL", "USERS")) as string[]).sort();

    const port = await freePort();
    configDir = await mkdtemp(join(tmpdir(), "edgebus-redis-fuzz-"));
    const configFile = join(configDir, "bridge.json");
    await writeFile(
      configFile,
      JSON.stringify({ kafkaRest: { enabled: false }, redisRest: { keyPatterns: ["fuzz:*"] } }),
    );
    url = `http://127.0.0.1:${port}`;
    ({ child, output } = await startBridgeChild(
      configFile,
      { BRIDGE_PORT: String(port), REDIS_URL: user.url, BRIDGE_REDIS_REST_TOKEN: token },
      60_000,
    ));
  }, 90_000);

  afterAll(async () => {
    tally.print();
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    }
    admin?.disconnect();
    await server?.stop();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  async function configSnapshot(): Promise<string[]> {
    const names = ["maxmemory", "busy-reply-threshold", "appendonly", "save", "dir", "dbfilename", "replicaof"];
    return Promise.all(names.map(async (name) => JSON.stringify(await admin.config("GET", name))));
  }

  async function fuzzKeys(): Promise<number> {
    let cursor = "0";
    let count = 0;
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", "fuzz:*", "COUNT", 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== "0");
    return count;
  }

  /** Nothing a token holder may not touch has changed. */
  async function expectUntouched(what: string): Promise<void> {
    expect(await admin.get("other:sentinel"), what).toBe("theirs");
    await admin.select(3);
    const otherDb = await admin.get("fuzz:db3");
    await admin.select(0);
    expect(otherDb, what).toBe("another database");
    expect(await configSnapshot(), what).toEqual(before.config);
    expect(((await admin.call("ACL", "USERS")) as string[]).sort(), what).toEqual(before.users);
    expect(await admin.call("FUNCTION", "LIST"), what).toEqual([]);
  }

  function post(path: string, body: unknown) {
    return httpExchange(`${url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  function expectAnswer(property: string, path: string, status: number, text: string): void {
    const what = `POST ${path} → ${status} ${text.slice(0, 300)}`;
    tally.record(property, status);
    expect(status, what).toBeLessThan(500);
    if (status >= 400) expect(bridgeRejectionProblem(path, status, text), what).toBeUndefined();
  }

  /**
   * SCRIPT KILL through the gateway until the call running the script has answered. NOTBUSY alone
   * proves nothing: the script may not have started yet (a transaction is still queueing).
   */
  async function killRunaway(pending: Promise<unknown>): Promise<void> {
    let settled = false;
    void pending.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    const deadline = Date.now() + 10_000;
    while (!settled) {
      if (Date.now() > deadline) throw new Error("SCRIPT KILL through the gateway did not stop the script within 10 s");
      await new Promise((resolve) => setTimeout(resolve, BUSY_THRESHOLD_MS));
      if (settled) return;
      const { status, text } = await post("/redis", ["script", "kill"]);
      expectAnswer("script kill", "/redis", status, text);
      expect(status === 200 || text.includes("NOTBUSY"), text).toBe(true);
    }
  }

  it("refused commands, in any case, alone or among valid ones, on every route: 400, nothing runs", async () => {
    const property = "refused command";
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...REFUSED),
        fc.nat(),
        fc.constantFrom<Route>("/redis", "/redis/pipeline", "/redis/multi-exec"),
        fc.nat({ max: 3 }),
        async (command, seed, route, position) => {
          const [name = "", ...args] = command;
          const hostile = [mixedCase(name, seed), ...args];
          const valid = (i: number) => ["set", `fuzz:${seed}:${i}`, "v"];
          const body =
            route === "/redis"
              ? hostile
              : [...Array.from({ length: position }, (_, i) => valid(i)), hostile, valid(position)];
          const keysBefore = await fuzzKeys();
          const { status, text } = await post(route, body);
          expectAnswer(property, route, status, text);
          expect(status, text).toBe(400);
          expect(JSON.parse(text).error, text).toMatch(/^NOPERM .*refused by the REST gateway/);
          expect(await fuzzKeys(), `${text}: a refused call wrote keys`).toBe(keysBefore);
          await expectUntouched(JSON.stringify(body));
        },
      ),
      fuzzParameters(settings, 60),
    );
  });

  it("hostile Lua (FLUSHALL, SELECT, KEYS, CONFIG, foreign keys, infinite loops) is refused by Redis or killed", async () => {
    const property = "hostile lua";
    await fc.assert(
      fc.asyncProperty(
        luaAttack,
        fc.constantFrom<Route>("/redis", "/redis/pipeline", "/redis/multi-exec"),
        fc.constantFrom<Delivery>("eval", "eval_ro", "evalsha"),
        async (attack, route, delivery) => {
          let command: string[] = [delivery, attack.script, "0"];
          if (delivery === "evalsha") {
            const load = await post("/redis", ["script", "load", attack.script]);
            expectAnswer(property, "/redis", load.status, load.text);
            if (load.status !== 200) return; // a script Redis cannot compile
            command = ["evalsha", JSON.parse(load.text).result, "0"];
          }
          const pending = post(route, route === "/redis" ? command : [command, ["get", "fuzz:after"]]);
          if (attack.loops) await killRunaway(pending);
          const { status, text } = await pending;
          expectAnswer(property, route, status, text);
          // 'ran' means the attack itself did nothing harmful (pcall caught a refusal); the
          // invariants below are what counts.
          await expectUntouched(`${delivery} via ${route}: ${attack.script}`);
          expect(await admin.ping()).toBe("PONG");
        },
      ),
      fuzzParameters(settings, 60),
    );
  });

  it("keeps serving and logged no internal error", async () => {
    expect(child.exitCode).toBeNull();
    const { status, text } = await post("/redis/pipeline", [
      ["set", "fuzz:final", "ok"],
      ["get", "fuzz:final"],
    ]);
    expect(status, text).toBe(200);
    expect(JSON.parse(text)).toEqual([{ result: "OK" }, { result: "ok" }]);
    const health = await fetch(`${url}/healthz`);
    expect(health.status, await health.text()).toBe(200);
    expect(output()).not.toMatch(/internal error|Unhandled|uncaught|"level":"error"/i);
  });
});
