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
