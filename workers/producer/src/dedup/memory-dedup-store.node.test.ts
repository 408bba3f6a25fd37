import { expect, it, vi } from "vitest";
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

const options = (now: number) => ({ firstSeenAt: new Date(now).toISOString(), leaseMs: 30_000 });

it("drops exactly the oldest records while others expire, are read or come back (eviction order is insertion order)", async () => {
  // A model of what the store must hold: insertion order, expiry 24 h after creation, at most
  // `max` records. Random operations in many interleavings; the store must agree at every step.
  const max = 20;
  const window = 24 * 60 * 60 * 1000;
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  for (let round = 0; round < 20; round++) {
    let now = Date.UTC(2026, 10, 1);
    const store = new MemoryDedupStore(() => now, { maxRecords: max, sweepEveryMs: 60_000 });
    const model = new Map<string, number>(); // key → expiry, in insertion order
    const expire = () => {
      for (const [key, expiresAt] of model) if (expiresAt <= now) model.delete(key);
    };
    for (let step = 0; step < 400; step++) {
      const key = `k-${random(60)}`;
      const action = random(10);
      if (action < 6) {
        await store.beginMany([{ key, holder: `h-${step}`, plan: ["queue:archive"] }], options(now));
        if (model.has(key) && (model.get(key) as number) <= now) model.delete(key);
        if (!model.has(key)) {
          model.set(key, now + window);
          for (const oldest of model.keys()) {
            if (model.size <= max) break;
            model.delete(oldest);
          }
        }
      } else if (action < 8) {
        expect((await store.get(key)) !== null).toBe(model.has(key) && (model.get(key) as number) > now);
      } else {
        now += random(3) === 0 ? window / 2 : random(120_000);
      }
      expire();
      for (const [known] of model) expect(await store.get(known)).not.toBeNull();
      expect(store.size().records).toBeGreaterThanOrEqual(model.size);
      expect(store.size().records).toBeLessThanOrEqual(max);
    }
  }
});

it("evicts the oldest records without walking the store from its start for each new one", async () => {
  // V8 leaves a deleted Map slot in place until the table is rebuilt, so a fresh `keys()` walk per
  // eviction stepped over every record dropped since: tens of µs per new record in a full store
  // of 100,000. One walk has to serve every eviction (timings are too noisy to test this).
  const store = new MemoryDedupStore(Date.now, { maxRecords: 1_000 });
  const insert = async (from: number, count: number) => {
    for (let i = from; i < from + count; i += 100) {
      const items = Array.from({ length: 100 }, (_, j) => ({ key: `k-${i + j}`, holder: "h", plan: ["queue:a"] }));
      await store.beginMany(items, options(Date.now()));
    }
  };
  await insert(0, 1_500);
  const keys = vi.spyOn(Map.prototype, "keys");
  try {
    await insert(1_500, 5_000);
    expect(keys.mock.calls.length).toBeLessThan(10);
  } finally {
    keys.mockRestore();
  }
  expect(store.size().records).toBe(1_000);
  expect(await store.get("k-5499")).toBeNull();
  expect(await store.get("k-5500")).not.toBeNull();
});

it("hands out records that later progress does not change, and that callers cannot change", async () => {
  const now = Date.UTC(2026, 10, 1);
  const store = new MemoryDedupStore(() => now);
  const plan = ["queue:archive", "queue:notifications"];
  const answer = await store.beginMany([{ key: "k", holder: "h", plan }], options(now));
  const begun = answer.admitted ? answer.results[0] : undefined;
  if (begun?.kind !== "owned") throw new Error("expected the lease");
  plan.push("queue:webhooks");
  await store.finishMany([
    {
      key: "k",
      holder: "h",
      delivered: { "queue:archive": { destination: "archive", partition: null, offset: null } },
      complete: false,
    },
  ]);
  expect(begun.record).toEqual({
    destinations: ["queue:archive", "queue:notifications"],
    delivered: {},
    complete: false,
    firstSeenAt: new Date(now).toISOString(),
  });
  const record = await store.get("k");
  if (record === null) throw new Error("expected the record");
  expect(record.destinations).toEqual(["queue:archive", "queue:notifications"]);
  expect(() => (record.destinations as string[]).push("queue:other")).toThrow(TypeError);
  expect(() => {
    (record.delivered as Record<string, unknown>)["queue:other"] = null;
  }).toThrow(TypeError);
  expect((await store.get("k"))?.delivered).toEqual({
    "queue:archive": { destination: "archive", partition: null, offset: null },
  });
});

it("shares one plan and one set of empty queue receipts among records, and keeps a record's own receipts", async () => {
  const now = Date.UTC(2026, 10, 1);
  const store = new MemoryDedupStore(() => now);
  const queues = ["queue:archive", "queue:notifications"];
  const withKafka = ["queue:archive", "kafka:gov.auth.citizen"];
  const keys = ["a", "b", "c", "d"];
  await store.beginMany(
    keys.map((key, i) => ({ key, holder: "h", plan: i < 3 ? [...queues] : [...withKafka] })),
    options(now),
  );
  const queueReceipt = (destination: string) => ({ destination, partition: null, offset: null });
  await store.finishMany([
    {
      key: "a",
      holder: "h",
      delivered: { "queue:notifications": queueReceipt("notifications"), "queue:archive": queueReceipt("archive") },
      complete: true,
    },
    {
      key: "b",
      holder: "h",
      delivered: { "queue:archive": queueReceipt("archive"), "queue:notifications": queueReceipt("notifications") },
      complete: true,
    },
    // Only part delivered so far, then the rest in a second finish.
    { key: "c", holder: "h", delivered: { "queue:archive": queueReceipt("archive") }, complete: false },
    {
      key: "d",
      holder: "h",
      delivered: {
        "queue:archive": queueReceipt("archive"),
        "kafka:gov.auth.citizen": { destination: "gov.auth.citizen", partition: 3, offset: 41 },
      },
      complete: true,
    },
  ]);
  const [a, b, c, d] = await Promise.all(keys.map((key) => store.get(key)));
  expect(a?.destinations).toBe(b?.destinations);
  expect(a?.destinations).toBe(c?.destinations);
  expect(a?.delivered).toBe(b?.delivered);
  expect(a?.delivered).toEqual({
    "queue:archive": queueReceipt("archive"),
    "queue:notifications": queueReceipt("notifications"),
  });
  expect(c).toMatchObject({ complete: false, delivered: { "queue:archive": queueReceipt("archive") } });
  expect(d?.delivered).toEqual({
    "queue:archive": queueReceipt("archive"),
    "kafka:gov.auth.citizen": { destination: "gov.auth.citizen", partition: 3, offset: 41 },
  });

  await store.beginMany([{ key: "c", holder: "h2", plan: queues }], options(now));
  await store.finishMany([
    { key: "c", holder: "h2", delivered: { "queue:notifications": queueReceipt("notifications") }, complete: true },
  ]);
  expect((await store.get("c"))?.delivered).toBe(a?.delivered);
  // A receipt that differs (another destination name) is kept as given, not replaced by the shared one.
  await store.beginMany([{ key: "e", holder: "h", plan: queues }], options(now));
  await store.finishMany([
    {
      key: "e",
      holder: "h",
      delivered: { "queue:archive": queueReceipt("archive-2"), "queue:notifications": queueReceipt("notifications") },
      complete: true,
    },
  ]);
  expect((await store.get("e"))?.delivered).toEqual({
    "queue:archive": queueReceipt("archive-2"),
    "queue:notifications": queueReceipt("notifications"),
  });
});

it("gives each holder of one call its own lease", async () => {
  const now = Date.UTC(2026, 10, 1);
  const store = new MemoryDedupStore(() => now);
  await store.beginMany(
    [
      { key: "a", holder: "h1", plan: ["queue:archive"] },
      { key: "b", holder: "h2", plan: ["queue:archive"] },
      { key: "c", holder: "h1", plan: ["queue:archive"] },
    ],
    options(now),
  );
  await store.finishMany(["a", "b", "c"].map((key) => ({ key, holder: "h1", delivered: {}, complete: false })));
  const again = await store.beginMany(
    ["a", "b", "c"].map((key) => ({ key, holder: "h3", plan: ["queue:archive"] })),
    options(now),
  );
  expect(again.admitted && again.results.map((result) => result.kind)).toEqual(["owned", "busy", "owned"]);
});

it("keeps a lease taken in its record's last seconds: another caller is busy until the lease ends", async () => {
  let now = Date.UTC(2026, 10, 1);
  const store = new MemoryDedupStore(() => now);
  const begin = async (holder: string) => {
    const answer = await store.beginMany([{ key: "k", holder, plan: ["queue:archive"] }], {
      firstSeenAt: new Date(now).toISOString(),
      leaseMs: 30_000,
    });
    if (!answer.admitted) throw new Error("no rate limit was asked for");
    return answer.results[0];
  };
  await begin("first");
  await store.finishMany([{ key: "k", holder: "first", delivered: {}, complete: false }]);
  now += 24 * 60 * 60 * 1000 - 1000;
  expect((await begin("second"))?.kind).toBe("owned");
  now += 2000; // the record expired, the second caller's lease has 28 s left
  expect((await begin("third"))?.kind).toBe("busy");
  now += 29_000;
  const after = await begin("third");
  expect(after).toMatchObject({ kind: "owned", created: true });
  expect(store.size()).toEqual({ records: 1, leases: 1 });
});
