/**
 * The behaviour every `DedupStore` must show (see the interface's guarantees). Each
 * implementation's test file runs this suite against a fresh store.
 */
import { describe, expect, it } from "vitest";
import type { PublishReceipt } from "../brokers/publisher.ts";
import type { DedupStore } from "./dedup-store.ts";

const queueReceipt: PublishReceipt = { destination: "archive", partition: null, offset: null };
const kafkaReceipt: PublishReceipt = { destination: "gov.auth.citizen", partition: 2, offset: 7 };
const plan = ["queue:archive", "kafka:gov.auth.citizen"];
const options = { plan, firstSeenAt: "2026-11-01T00:00:00.000Z", leaseMs: 10_000 };

export function runDedupStoreContract(name: string, newStore: () => DedupStore | Promise<DedupStore>): void {
  const uniqueKey = () => `/contract\u0000${crypto.randomUUID()}`;

  describe(`${name} (DedupStore contract)`, () => {
    it("knows nothing about a new key", async () => {
      expect(await (await newStore()).get(uniqueKey())).toBeNull();
    });

    it("records a new key before publishing and hands its holder the lease", async () => {
      const store = await newStore();
      const key = uniqueKey();
      expect(await store.begin(key, "a", options)).toEqual({
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
      expect(await store.begin(key, "b", options)).toEqual({ kind: "busy" });
    });

    it("keeps per-destination progress and resumes it with the original plan", async () => {
      const store = await newStore();
      const key = uniqueKey();
      await store.begin(key, "a", options);
      await store.finish(key, "a", { "kafka:gov.auth.citizen": kafkaReceipt }, false);
      const resumed = await store.begin(key, "b", {
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
      await store.finish(key, "b", { "queue:archive": queueReceipt }, true);
      const done = await store.begin(key, "c", options);
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
      const results = await Promise.all(["a", "b", "c", "d"].map((holder) => store.begin(key, holder, options)));
      expect(results.filter((r) => r.kind === "owned")).toHaveLength(1);
      expect(results.filter((r) => r.kind === "owned" && r.created)).toHaveLength(1);
      expect(results.filter((r) => r.kind === "busy")).toHaveLength(3);
    });

    it("releases the lease only for its holder", async () => {
      const store = await newStore();
      const key = uniqueKey();
      await store.begin(key, "a", options);
      await store.finish(key, "not-the-holder", {}, false);
      expect((await store.begin(key, "b", options)).kind).toBe("busy");
      await store.finish(key, "a", {}, false);
      expect((await store.begin(key, "b", options)).kind).toBe("owned");
    });

    it("lets a lease expire", async () => {
      const store = await newStore();
      const key = uniqueKey();
      expect((await store.begin(key, "a", { ...options, leaseMs: 50 })).kind).toBe("owned");
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await store.begin(key, "b", options)).toMatchObject({ kind: "owned", created: false });
    });

    it("does not recreate a record that does not exist", async () => {
      const store = await newStore();
      const key = uniqueKey();
      await store.finish(key, "a", { "queue:archive": queueReceipt }, true);
      expect(await store.get(key)).toBeNull();
    });
  });
}
