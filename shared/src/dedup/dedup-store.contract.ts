/**
 * The behaviour every `DedupStore` must show (see the interface's guarantees). Each
 * implementation's test file runs this suite against a fresh store.
 */
import { describe, expect, it } from "vitest";
import type { DedupStore } from "./dedup-store.ts";

export function runDedupStoreContract(name: string, newStore: () => DedupStore | Promise<DedupStore>): void {
  const uniqueKey = () => `/contract\u0000${crypto.randomUUID()}`;

  describe(`${name} (DedupStore contract)`, () => {
    it("knows nothing about a new key", async () => {
      expect(await (await newStore()).get(uniqueKey())).toBeNull();
    });

    it("creates a record once and keeps per-destination progress", async () => {
      const store = await newStore();
      const key = uniqueKey();
      expect(await store.create(key, ["queue:archive", "kafka:gov.auth.citizen"], "2026-11-01T00:00:00.000Z")).toBe(
        true,
      );
      expect(await store.create(key, ["queue:other"], "2026-11-02T00:00:00.000Z")).toBe(false);
      await store.markDelivered(key, "kafka:gov.auth.citizen", {
        destination: "gov.auth.citizen",
        partition: 2,
        offset: 7,
      });
      expect(await store.get(key)).toEqual({
        destinations: ["queue:archive", "kafka:gov.auth.citizen"],
        delivered: { "kafka:gov.auth.citizen": { destination: "gov.auth.citizen", partition: 2, offset: 7 } },
        complete: false,
        firstSeenAt: "2026-11-01T00:00:00.000Z",
      });
      await store.markDelivered(key, "queue:archive", { destination: "archive", partition: null, offset: null });
      await store.markComplete(key);
      const record = await store.get(key);
      expect(record?.complete).toBe(true);
      expect(Object.keys(record?.delivered ?? {}).sort()).toEqual(["kafka:gov.auth.citizen", "queue:archive"]);
    });

    it("does not resurrect a record that does not exist", async () => {
      const store = await newStore();
      const key = uniqueKey();
      await store.markDelivered(key, "queue:archive", { destination: "archive", partition: null, offset: null });
      await store.markComplete(key);
      expect(await store.get(key)).toBeNull();
    });

    it("grants a lease to one holder at a time", async () => {
      const store = await newStore();
      const key = uniqueKey();
      const results = await Promise.all(["a", "b", "c"].map((holder) => store.acquireLease(key, holder, 10_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = ["a", "b", "c"][results.indexOf(true)] as string;
      await store.releaseLease(key, "not-the-holder");
      expect(await store.acquireLease(key, "d", 10_000)).toBe(false);
      await store.releaseLease(key, winner);
      expect(await store.acquireLease(key, "d", 10_000)).toBe(true);
    });

    it("lets a lease expire", async () => {
      const store = await newStore();
      const key = uniqueKey();
      expect(await store.acquireLease(key, "a", 50)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await store.acquireLease(key, "b", 10_000)).toBe(true);
    });
  });
}
