import { expect, it } from "vitest";
import { runDedupStoreContract } from "./dedup-store.contract.ts";
import { MemoryDedupStore } from "./memory-dedup-store.ts";

runDedupStoreContract("MemoryDedupStore", () => new MemoryDedupStore());

it("forgets a record after the 24 h window", async () => {
  let now = Date.UTC(2026, 10, 1);
  const store = new MemoryDedupStore(() => now);
  await store.beginMany([{ key: "k", holder: "a", plan: ["queue:archive"] }], {
    firstSeenAt: new Date(now).toISOString(),
    leaseMs: 1000,
  });
  now += 24 * 60 * 60 * 1000 - 1;
  expect(await store.get("k")).not.toBeNull();
  now += 1;
  expect(await store.get("k")).toBeNull();
  expect(store.shared).toBe(false);
});

it("sweeps expired records and leases, so memory stays bounded without reads of the old keys", async () => {
  let now = Date.UTC(2026, 10, 1);
  const store = new MemoryDedupStore(() => now);
  const begin = (key: string) =>
    store.beginMany([{ key, holder: "h", plan: ["queue:archive"] }], {
      firstSeenAt: new Date(now).toISOString(),
      leaseMs: 30_000,
    });
  for (let i = 0; i < 1_000; i++) await begin(`old-${i}`);
  expect(store.size()).toEqual({ records: 1_000, leases: 1_000 });
  // Leases expire after 30 s, records after 24 h; nobody asks for the old keys again.
  now += 24 * 60 * 60 * 1000;
  await begin("new");
  expect(store.size()).toEqual({ records: 1, leases: 1 });
});

it("keeps at most maxRecords, dropping the oldest first", async () => {
  const store = new MemoryDedupStore(Date.now, { maxRecords: 100 });
  for (let i = 0; i < 250; i++) {
    await store.beginMany([{ key: `k-${i}`, holder: "h", plan: ["queue:archive"] }], {
      firstSeenAt: new Date().toISOString(),
      leaseMs: 10,
    });
  }
  expect(store.size().records).toBe(100);
  expect(await store.get("k-0")).toBeNull();
  expect(await store.get("k-249")).not.toBeNull();
});
