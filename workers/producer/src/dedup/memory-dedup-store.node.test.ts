import { expect, it } from "vitest";
import { runDedupStoreContract } from "./dedup-store.contract.ts";
import { MemoryDedupStore } from "./memory-dedup-store.ts";

runDedupStoreContract("MemoryDedupStore", () => new MemoryDedupStore());

it("forgets a record after the 24 h window", async () => {
  let now = Date.UTC(2026, 10, 1);
  const store = new MemoryDedupStore(() => now);
  await store.begin("k", "a", { plan: ["queue:archive"], firstSeenAt: new Date(now).toISOString(), leaseMs: 1000 });
  now += 24 * 60 * 60 * 1000 - 1;
  expect(await store.get("k")).not.toBeNull();
  now += 1;
  expect(await store.get("k")).toBeNull();
  expect(store.shared).toBe(false);
});
