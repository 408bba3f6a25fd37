/**
 * The behaviour every `DedupStore` must show (see the interface's guarantees). Each
 * implementation's test file runs this suite against a fresh store.
 */
import { describe, expect, it } from "vitest";
import type { PublishReceipt } from "../brokers/publisher.ts";
import type { BeginOptions, BeginResult, DedupStore } from "./dedup-store.ts";

const queueReceipt: PublishReceipt = { destination: "archive", partition: null, offset: null };
const kafkaReceipt: PublishReceipt = { destination: "gov.auth.citizen", partition: 2, offset: 7 };
const plan = ["queue:archive", "kafka:gov.auth.citizen"];
const options = { plan, firstSeenAt: "2026-11-01T00:00:00.000Z", leaseMs: 10_000 };
const limit = { requests: 10, window_seconds: 3600 };

/** One event's begin through `beginMany`. */
async function begin(
  store: DedupStore,
  key: string,
  holder: string,
  { plan: itemPlan, ...rest }: BeginOptions & { plan: readonly string[] },
): Promise<BeginResult> {
  const answer = await store.beginMany([{ key, holder, plan: itemPlan }], rest);
  if (!answer.admitted) throw new Error("refused without an admission");
  expect(answer.results).toHaveLength(1);
  return answer.results[0] as BeginResult;
}

function finish(
  store: DedupStore,
  key: string,
  holder: string,
  delivered: Record<string, PublishReceipt>,
  complete: boolean,
): Promise<void> {
  return store.finishMany([{ key, holder, delivered, complete }]);
}

export function runDedupStoreContract(name: string, newStore: () => DedupStore | Promise<DedupStore>): void {
  const uniqueKey = () => `/contract\u0000${crypto.randomUUID()}`;

  describe(`${name} (DedupStore contract)`, () => {
    it("knows nothing about a new key", async () => {
      expect(await (await newStore()).get(uniqueKey())).toBeNull();
    });

    it("records a new key before publishing and hands its holder the lease", async () => {
      const store = await newStore();
      const key = uniqueKey();
      expect(await begin(store, key, "a", options)).toEqual({
        kind: "owned",
        created: true,
        record: { destinations: plan, delivered: {}, complete: false, firstSeenAt: options.firstSeenAt },
      });
      expect(await store.get(key)).toEqual({
        destinations: plan,
        delivered: {},
        complete: false,
        firstSeenAt: options.firstSeenAt,
      });
      expect(await begin(store, key, "b", options)).toEqual({ kind: "busy" });
    });

    it("keeps per-destination progress and resumes it with the original plan", async () => {
      const store = await newStore();
      const key = uniqueKey();
      await begin(store, key, "a", options);
      await finish(store, key, "a", { "kafka:gov.auth.citizen": kafkaReceipt }, false);
      const resumed = await begin(store, key, "b", {
        ...options,
        plan: ["queue:other"],
        firstSeenAt: "2026-12-01T00:00:00Z",
      });
      expect(resumed).toEqual({
        kind: "owned",
        created: false,
        record: {
          destinations: plan,
          delivered: { "kafka:gov.auth.citizen": kafkaReceipt },
          complete: false,
          firstSeenAt: options.firstSeenAt,
        },
      });
      await finish(store, key, "b", { "queue:archive": queueReceipt }, true);
      const done = await begin(store, key, "c", options);
      expect(done).toEqual({
        kind: "complete",
        record: {
          destinations: plan,
          delivered: { "kafka:gov.auth.citizen": kafkaReceipt, "queue:archive": queueReceipt },
          complete: true,
          firstSeenAt: options.firstSeenAt,
        },
      });
    });

    it("grants the lease to exactly one of many concurrent callers", async () => {
      const store = await newStore();
      const key = uniqueKey();
      const results: BeginResult[] = await Promise.all(
        ["a", "b", "c", "d"].map((holder) => begin(store, key, holder, options)),
      );
      expect(results.filter((r) => r.kind === "owned")).toHaveLength(1);
      expect(results.filter((r) => r.kind === "owned" && r.created)).toHaveLength(1);
      expect(results.filter((r) => r.kind === "busy")).toHaveLength(3);
    });

    it("releases the lease only for its holder", async () => {
      const store = await newStore();
      const key = uniqueKey();
      await begin(store, key, "a", options);
      await finish(store, key, "not-the-holder", {}, false);
      expect((await begin(store, key, "b", options)).kind).toBe("busy");
      await finish(store, key, "a", {}, false);
      expect((await begin(store, key, "b", options)).kind).toBe("owned");
    });

    it("lets a lease expire", async () => {
      const store = await newStore();
      const key = uniqueKey();
      expect((await begin(store, key, "a", { ...options, leaseMs: 50 })).kind).toBe("owned");
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await begin(store, key, "b", options)).toMatchObject({ kind: "owned", created: false });
    });

    it("begins many events in one call, one result per event in order", async () => {
      const store = await newStore();
      const [done, fresh, taken] = [uniqueKey(), uniqueKey(), uniqueKey()];
      await begin(store, done, "a", options);
      await finish(store, done, "a", { "queue:archive": queueReceipt, "kafka:gov.auth.citizen": kafkaReceipt }, true);
      await begin(store, taken, "other", options);
      const answer = await store.beginMany(
        [
          { key: done, holder: "b", plan },
          { key: fresh, holder: "b", plan: ["queue:archive"] },
          { key: taken, holder: "b", plan },
        ],
        { firstSeenAt: options.firstSeenAt, leaseMs: 10_000 },
      );
      expect(answer.admitted).toBe(true);
      const results = answer.admitted ? answer.results : [];
      expect(results.map((result) => result.kind)).toEqual(["complete", "owned", "busy"]);
      expect(results[1]).toMatchObject({ created: true, record: { destinations: ["queue:archive"] } });
      await store.finishMany([
        { key: fresh, holder: "b", delivered: { "queue:archive": queueReceipt }, complete: true },
        { key: taken, holder: "b", delivered: {}, complete: false },
      ]);
      expect(await store.get(fresh)).toMatchObject({ complete: true, delivered: { "queue:archive": queueReceipt } });
      // "b" never held `taken`'s lease: it is still "other"'s.
      expect((await begin(store, taken, "c", options)).kind).toBe("busy");
    });

    it("takes the request's rate limit in the same step, and refuses without beginning or charging", async () => {
      const store = await newStore();
      const keyId = `key-${crypto.randomUUID()}`;
      const [first, second] = [uniqueKey(), uniqueKey()];
      const admitted = await store.beginMany([{ key: first, holder: "a", plan }], {
        ...options,
        admission: { keyId, limit, cost: 7 },
      });
      expect(admitted).toMatchObject({ admitted: true, decision: { allowed: true, remaining: 3 } });
      const refused = await store.beginMany([{ key: second, holder: "a", plan }], {
        ...options,
        admission: { keyId, limit, cost: 4 },
      });
      expect(refused).toMatchObject({ admitted: false, decision: { allowed: false, remaining: 3 } });
      if (!refused.admitted) expect(refused.decision.resetAt).toBeGreaterThan(Date.now());
      expect(await store.get(second)).toBeNull();
      // The refused cost was not charged: 3 still fit, then nothing; other keys count on their own.
      const rest = await store.beginMany([], { ...options, admission: { keyId, limit, cost: 3 } });
      expect(rest).toMatchObject({ admitted: true, decision: { remaining: 0 }, results: [] });
      expect((await store.beginMany([], { ...options, admission: { keyId, limit, cost: 1 } })).admitted).toBe(false);
      const other = await store.beginMany([], { ...options, admission: { keyId: `${keyId}-2`, limit, cost: 10 } });
      expect(other.admitted).toBe(true);
    });

    it("does not recreate a record that does not exist", async () => {
      const store = await newStore();
      const key = uniqueKey();
      await finish(store, key, "a", { "queue:archive": queueReceipt }, true);
      expect(await store.get(key)).toBeNull();
    });
  });
}
