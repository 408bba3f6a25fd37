import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { RedisCommandRunner } from "./command-runner.ts";
import { rewriteScript, scriptSha } from "./script-rewriter.ts";

const available = await requireService("redis", "redis-rest command runner");

describe.skipIf(!available)("RedisCommandRunner scripts", () => {
  // Connected in beforeAll: a skipped suite's body still runs at collection time.
  let redis: Redis;
  let runner: RedisCommandRunner;
  beforeAll(() => {
    redis = new Redis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    runner = new RedisCommandRunner(redis);
  });
  afterAll(async () => {
    await runner.close();
    await redis.quit();
  });

  // A script no other test has loaded, so Redis's script cache cannot already hold it.
  const original = `#!lua flags=allow-key-locking\nreturn ARGV[1] .. '${randomUUID()}'`;
  const clientSha = scriptSha(original);

  it("passes NOSCRIPT through when the map knows the script but Redis lost it, then recovers via EVAL", async () => {
    // Same state as after SCRIPT FLUSH or a Redis restart: the mapping exists, the script does not.
    runner.scripts.remember(original, rewriteScript(original) ?? "");
    const missing = await runner.runOne(["evalsha", clientSha, "0", "x"], false);
    expect(missing).toEqual({ error: expect.stringMatching(/^NOSCRIPT /) });

    // What @upstash/ratelimit does next: EVAL the original text.
    const evaluated = await runner.runOne(["eval", original, "0", "x"], false);
    expect(evaluated).toEqual({ result: expect.stringMatching(/^x/) });
    expect(await runner.runOne(["evalsha", clientSha, "0", "y"], false)).toEqual({
      result: expect.stringMatching(/^y/),
    });
  });

  it("keeps Redis's compile error when a rewritten script is broken", async () => {
    const broken = "#!lua flags=allow-key-locking\nreturn (";
    const outcome = await runner.runOne(["eval", broken, "0"], false);
    expect(outcome).toEqual({ error: expect.stringContaining("ERR Error compiling script") });
  });

  it("runs transactions on their own connection, evaluating rewritten scripts inside", async () => {
    const outcomes = await runner.runTransaction(
      [
        ["eval", original, "0", "t"],
        ["evalsha", clientSha, "0", "u"],
      ],
      false,
    );
    expect(outcomes).toEqual([{ result: expect.stringMatching(/^t/) }, { result: expect.stringMatching(/^u/) }]);
  });
});

describe.skipIf(!available)("RedisCommandRunner pipelines", () => {
  let redis: Redis;
  let runner: RedisCommandRunner;
  const prefix = `t:runner:${randomUUID()}:`;
  beforeAll(async () => {
    redis = new Redis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    runner = new RedisCommandRunner(redis);
    await redis.ping();
    // Opens the pipelines' connection, so the writes counted below are the commands' alone.
    await runner.runOne(["ping"], false);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await runner.close();
    await redis.quit();
  });

  /** Counts the writes that reach the pipelines' socket while `work` runs. */
  async function socketWrites(work: () => Promise<unknown>): Promise<number> {
    const before = runner.pipelineWrites;
    await work();
    return runner.pipelineWrites - before;
  }

  it("sends a whole pipeline in one socket write and answers each command in order, errors in place", async () => {
    let outcomes: unknown;
    const writes = await socketWrites(async () => {
      outcomes = await runner.runPipeline(
        [
          ["set", `${prefix}a`, "1"],
          ["incr", `${prefix}a`],
          ["hset", `${prefix}a`, "f", "v"],
          ["get", `${prefix}a`],
          ...Array.from({ length: 50 }, () => ["incr", `${prefix}n`] as const),
        ],
        false,
      );
    });
    expect(writes).toBe(1);
    expect(outcomes).toEqual([
      { result: "OK" },
      { result: 2 },
      { error: expect.stringMatching(/^WRONGTYPE /) },
      { result: "2" },
      ...Array.from({ length: 50 }, (_, i) => ({ result: i + 1 })),
    ]);
  });

  it("sends the pipelines and single commands issued in one event-loop turn in one write, in order", async () => {
    let answers: unknown;
    const writes = await socketWrites(async () => {
      answers = await Promise.all([
        runner.runPipeline(
          [
            ["set", `${prefix}turn`, "1"],
            ["incr", `${prefix}turn`],
          ],
          false,
        ),
        runner.runOne(["incr", `${prefix}turn`], false),
        runner.runPipeline(
          [
            ["get", `${prefix}turn`],
            ["del", `${prefix}turn`],
          ],
          false,
        ),
      ]);
    });
    expect(writes).toBe(1);
    expect(answers).toEqual([[{ result: "OK" }, { result: 2 }], { result: 3 }, [{ result: "3" }, { result: 1 }]]);
  });

  it("answers HGETALL as Redis's flat array in a pipeline and in a transaction (ioredis would make an object)", async () => {
    const key = `${prefix}flat`;
    const commands = [["del", key] as const, ["hset", key, "f", "v", "g", "w"] as const, ["hgetall", key] as const];
    const written = [{ result: 2 }, { result: ["f", "v", "g", "w"] }];
    expect(await runner.runPipeline(commands, false)).toEqual([{ result: 0 }, ...written]);
    expect(await runner.runTransaction(commands, false)).toEqual([{ result: 1 }, ...written]);
  });

  it("answers a pipeline Redis holds past its deadline with upstream_unavailable; later replies still pair", async () => {
    const slow = new Redis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    const slowRunner = new RedisCommandRunner(slow, { commandTimeoutMs: 200 });
    try {
      const started = performance.now();
      // BLPOP on an empty list holds the connection: nothing behind it is answered.
      const held = slowRunner.runPipeline(
        [
          ["blpop", `${prefix}held`, "5"],
          ["set", `${prefix}after`, "y"],
        ],
        false,
      );
      await expect(held).rejects.toMatchObject({
        code: "upstream_unavailable",
        message: "ERR redis is unavailable: Command timed out",
      });
      expect(performance.now() - started).toBeLessThan(900);
      // Released, BLPOP answers, then SET. The timed-out commands stayed queued: their late replies
      // are dropped, not handed to the next command on the connection, which gets its own.
      await slow.rpush(`${prefix}held`, "v");
      expect(await slowRunner.runOne(["get", `${prefix}after`], false)).toEqual({ result: "y" });
    } finally {
      await slowRunner.close();
      await slow.quit();
    }
  });

  it("queues a pipeline sent before the connection is ready and runs it once it is", async () => {
    const offline = new Redis(serviceUrls.redis, { maxRetriesPerRequest: 1, lazyConnect: true });
    const offlineRunner = new RedisCommandRunner(offline);
    try {
      const pending = offlineRunner.runPipeline(
        [
          ["set", `${prefix}late`, "x"],
          ["get", `${prefix}late`],
        ],
        false,
      );
      expect(offline.status).not.toBe("ready");
      expect(await pending).toEqual([{ result: "OK" }, { result: "x" }]);
    } finally {
      await offlineRunner.close();
      await offline.quit();
    }
  });
});
