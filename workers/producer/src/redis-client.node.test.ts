import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BlackHole, startBlackHole } from "../../../test/support/black-hole.ts";
import { RedisDedupStore } from "./dedup/redis-dedup-store.ts";
import { createProducerRedis, withRedisDeadline } from "./redis-client.ts";

describe("Redis calls have a deadline", () => {
  let blackHole: BlackHole;
  beforeAll(async () => {
    blackHole = await startBlackHole();
  });
  afterAll(async () => {
    await blackHole.close();
  });

  const timed = async (run: () => Promise<unknown>) => {
    const started = performance.now();
    const outcome = await run().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    return { ...outcome, ms: performance.now() - started };
  };

  it("withRedisDeadline rejects with upstream_unavailable when the call never settles", async () => {
    const result = await timed(() => withRedisDeadline("test call", 100, () => new Promise(() => undefined)));
    expect(result).toMatchObject({ error: { code: "upstream_unavailable", retryable: true } });
    expect(result.ms).toBeLessThan(1_000);
    await expect(withRedisDeadline("test call", 100, async () => 7)).resolves.toBe(7);
  });

  it("dedup and the rate limiter give up on a server that accepts and never answers", async () => {
    const redis = createProducerRedis({ url: blackHole.url, token: "t", timeoutMs: 200 });
    const before = blackHole.connections();
    const begin = await timed(() =>
      new RedisDedupStore(redis, "test", 200).beginMany([{ key: "/s\u0000id", holder: "h", plan: ["queue:archive"] }], {
        firstSeenAt: new Date().toISOString(),
        leaseMs: 1000,
      }),
    );
    expect(begin).toMatchObject({ error: { code: "upstream_unavailable" } });
    expect(begin.ms).toBeLessThan(1_500);
    const take = await timed(() =>
      new RedisDedupStore(redis, "test", 200).beginMany([], {
        firstSeenAt: new Date().toISOString(),
        leaseMs: 1000,
        admission: { keyId: "key", limit: { requests: 10, window_seconds: 60 }, cost: 3 },
      }),
    );
    expect(take).toMatchObject({ error: { code: "upstream_unavailable" } });
    expect(take.ms).toBeLessThan(1_500);
    // The requests really reached the server: the deadline, not a refused connection, ended them.
    expect(blackHole.connections()).toBeGreaterThan(before);
  });
});
