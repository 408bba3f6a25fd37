import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import type { PublishReceipt } from "../brokers/publisher.ts";
import type { DedupStore } from "./dedup-store.ts";
import { type DeliverManyInput, type DeliveryResult, deliverMany, deliverOnce } from "./deliver-once.ts";
import { MemoryDedupStore } from "./memory-dedup-store.ts";

/** Records publishes; destinations listed in `failing` reject until removed. */
function recordingPublisher() {
  const published: string[] = [];
  const failing = new Set<string>();
  let offset = 0;
  return {
    published,
    failing,
    publish: async (destination: string): Promise<PublishReceipt> => {
      if (failing.has(destination)) throw new EdgebusError("upstream_unavailable", `${destination} is down`);
      published.push(destination);
      return { destination, partition: 0, offset: offset++ };
    },
  };
}

const plan = ["queue:archive", "queue:kafka-mirror", "kafka:gov.auth.citizen"];

describe("deliverOnce", () => {
  it("publishes every destination once and answers duplicate afterwards", async () => {
    const store = new MemoryDedupStore();
    const publisher = recordingPublisher();
    const first = await deliverOnce({ store, key: "k1", plan, publish: publisher.publish });
    expect(first.status).toBe("accepted");
    expect(publisher.published.sort()).toEqual([...plan].sort());
    const second = await deliverOnce({ store, key: "k1", plan, publish: publisher.publish });
    expect(second.status).toBe("duplicate");
    expect(second.receipts).toEqual(first.receipts);
    expect(second.publishedNow).toEqual([]);
    expect(publisher.published).toHaveLength(3);
  });

  it("completes only the missing destination on a retry after a partial failure", async () => {
    const store = new MemoryDedupStore();
    const publisher = recordingPublisher();
    publisher.failing.add("kafka:gov.auth.citizen");
    const failure = await deliverOnce({ store, key: "k2", plan, publish: publisher.publish }).catch((e) => e);
    expect(failure).toBeInstanceOf(EdgebusError);
    expect(failure).toMatchObject({ code: "upstream_unavailable", details: { failed: ["kafka:gov.auth.citizen"] } });
    const recorded = await store.get("k2");
    expect(recorded?.complete).toBe(false);
    const originalQueueReceipts = recorded?.delivered;

    publisher.failing.clear();
    const retry = await deliverOnce({ store, key: "k2", plan: ["queue:other"], publish: publisher.publish });
    expect(retry.status).toBe("duplicate");
    expect(retry.publishedNow).toEqual(["kafka:gov.auth.citizen"]);
    expect(retry.destinations).toEqual(plan);
    expect(retry.receipts).toMatchObject(originalQueueReceipts ?? {});
    expect(publisher.published.filter((d) => d.startsWith("queue:"))).toHaveLength(2);
    expect((await store.get("k2"))?.complete).toBe(true);
  });

  it("lets only one of two concurrent requests publish", async () => {
    const store = new MemoryDedupStore();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const published: string[] = [];
    const slowPublish = async (destination: string): Promise<PublishReceipt> => {
      await gate;
      published.push(destination);
      return { destination, partition: null, offset: null };
    };
    const first = deliverOnce({ store, key: "k3", plan, publish: slowPublish });
    const second = deliverOnce({ store, key: "k3", plan, publish: slowPublish }).catch((e) => e);
    await expect(second).resolves.toMatchObject({ code: "conflict", retryable: true });
    release();
    await expect(first).resolves.toMatchObject({ status: "accepted" });
    expect(published).toHaveLength(3);
  });
});

describe("deliverMany", () => {
  it("publishes a batch with one call per destination and records each event", async () => {
    const store = new MemoryDedupStore();
    const calls: [string, number[]][] = [];
    const requests = [
      { key: "a", plan: ["queue:archive", "kafka:t"] },
      { key: "b", plan: ["queue:archive"] },
      { key: "c", plan: ["queue:archive", "kafka:t"] },
    ];
    const results = await deliverAll({
      store,
      requests,
      publish: async (destination, indices) => {
        calls.push([destination, [...indices]]);
        return indices.map((i) => ({ destination, partition: 0, offset: i }));
      },
    });
    expect(calls.sort()).toEqual([
      ["kafka:t", [0, 2]],
      ["queue:archive", [0, 1, 2]],
    ]);
    expect(results.map((r) => r.ok && r.outcome.status)).toEqual(["accepted", "accepted", "accepted"]);
    expect(results[2]).toMatchObject({ ok: true, outcome: { receipts: { "kafka:t": { offset: 2 } } } });
    for (const key of ["a", "b", "c"]) expect((await store.get(key))?.complete).toBe(true);
  });

  it("takes every lease of one call under one holder, another call's under another", async () => {
    const inner = new MemoryDedupStore();
    const begun: string[][] = [];
    const finished: string[][] = [];
    const store: DedupStore = {
      shared: false,
      get: (key) => inner.get(key),
      beginMany: (items, options) => {
        begun.push(items.map((item) => item.holder));
        return inner.beginMany(items, options);
      },
      finishMany: (items) => {
        finished.push(items.map((item) => item.holder));
        return inner.finishMany(items);
      },
    };
    const publish: DeliverManyInput["publish"] = async (destination, indices) =>
      indices.map(() => ({ destination, partition: null, offset: null }));
    const plan = ["queue:archive"];
    await deliverAll({ store, requests: ["a", "b", "c"].map((key) => ({ key, plan })), publish });
    await deliverAll({ store, requests: ["d", "e"].map((key) => ({ key, plan })), publish });
    const [first, second] = begun as [string[], string[]];
    expect(new Set(first).size).toBe(1);
    expect(new Set(second).size).toBe(1);
    expect(first[0]).not.toBe(second[0]);
    expect(finished).toEqual(begun);
    for (const key of ["a", "b", "c", "d", "e"]) expect((await inner.get(key))?.complete).toBe(true);
  });

  it("delivers a repeated key once; the copy answers duplicate with the same receipts", async () => {
    const store = new MemoryDedupStore();
    let published = 0;
    const results = await deliverAll({
      store,
      requests: [
        { key: "x", plan: ["queue:archive"] },
        { key: "x", plan: ["queue:archive"] },
      ],
      publish: async (destination, indices) => {
        published += indices.length;
        return indices.map(() => ({ destination, partition: null, offset: null }));
      },
    });
    expect(published).toBe(1);
    expect(results.map((r) => r.ok && r.outcome.status)).toEqual(["accepted", "duplicate"]);
  });

  it("fails only the events of a failing destination, and a retry completes just that", async () => {
    const store = new MemoryDedupStore();
    const requests = [
      { key: "p", plan: ["queue:archive", "kafka:t"] },
      { key: "q", plan: ["queue:archive"] },
    ];
    let kafkaDown = true;
    const calls: string[] = [];
    const publish = async (destination: string, indices: readonly number[]) => {
      calls.push(destination);
      if (destination === "kafka:t" && kafkaDown) throw new EdgebusError("upstream_unavailable", "down");
      return indices.map(() => ({ destination, partition: 1, offset: 9 }));
    };
    const first = await deliverAll({ store, requests, publish });
    expect(first[0]).toMatchObject({
      ok: false,
      error: { code: "upstream_unavailable", details: { failed: ["kafka:t"] } },
    });
    expect(first[1]).toMatchObject({ ok: true, outcome: { status: "accepted" } });
    kafkaDown = false;
    calls.length = 0;
    const retry = await deliverAll({ store, requests, publish });
    expect(calls).toEqual(["kafka:t"]);
    expect(retry.map((r) => r.ok && r.outcome.status)).toEqual(["duplicate", "duplicate"]);
  });

  it("reports a store failure per event as upstream_unavailable without publishing", async () => {
    const store = new MemoryDedupStore();
    store.beginMany = async () => {
      throw new EdgebusError("upstream_unavailable", "redis down");
    };
    let published = false;
    const [result] = await deliverAll({
      store,
      requests: [{ key: "z", plan: ["queue:archive"] }],
      publish: async () => {
        published = true;
        return [];
      },
    });
    expect(result).toMatchObject({ ok: false, error: { code: "upstream_unavailable" } });
    expect(published).toBe(false);
  });

  it("answers what was published when only recording it failed, so the client does not publish it again", async () => {
    const store = new MemoryDedupStore();
    const finishMany = store.finishMany.bind(store);
    store.finishMany = async () => {
      throw new EdgebusError("upstream_unavailable", "redis went away after publishing");
    };
    const publisher = recordingPublisher();
    const [result] = await deliverAll({
      store,
      requests: [{ key: "f", plan }],
      publish: async (destination, indices) => Promise.all(indices.map(() => publisher.publish(destination))),
    });
    expect(result).toMatchObject({ ok: true, outcome: { status: "accepted", destinations: plan } });
    expect(publisher.published).toHaveLength(3);
    // A retry while the lease still holds is told to wait, not published again.
    store.finishMany = finishMany;
    const [retry] = await deliverAll({
      store,
      requests: [{ key: "f", plan }],
      publish: async (destination, indices) => Promise.all(indices.map(() => publisher.publish(destination))),
    });
    expect(retry).toMatchObject({ ok: false, error: { code: "conflict" } });
    expect(publisher.published).toHaveLength(3);
  });

  it("takes the request's rate limit with the begins; refused, it begins and publishes nothing", async () => {
    const store = new MemoryDedupStore();
    const publisher = recordingPublisher();
    const admission = { keyId: "svc", limit: { requests: 2, window_seconds: 60 }, cost: 2 };
    const input = (key: string) => ({
      store,
      requests: [{ key, plan }],
      admission,
      publish: async (destination: string, indices: readonly number[]) =>
        Promise.all(indices.map(() => publisher.publish(destination))),
    });
    const first = await deliverMany(input("r1"));
    expect(first.admitted).toBe(true);
    const refused = await deliverMany(input("r2"));
    expect(refused).toMatchObject({ admitted: false, decision: { allowed: false, remaining: 0 } });
    expect(await store.get("r2")).toBeNull();
    expect(publisher.published).toHaveLength(3);
  });

  it("rejects as a whole when the store fails while taking the rate limit, so the caller decides", async () => {
    const store = new MemoryDedupStore();
    store.beginMany = async () => {
      throw new EdgebusError("upstream_unavailable", "redis down");
    };
    await expect(
      deliverMany({
        store,
        requests: [{ key: "z", plan: ["queue:archive"] }],
        admission: { keyId: "svc", limit: { requests: 5, window_seconds: 60 }, cost: 1 },
        publish: async () => [],
      }),
    ).rejects.toMatchObject({ code: "upstream_unavailable" });
  });
});

/** `deliverMany` without an admission: always admitted; its per-request results. */
async function deliverAll(input: DeliverManyInput): Promise<DeliveryResult[]> {
  const answer = await deliverMany(input);
  if (!answer.admitted) throw new Error("refused without an admission");
  return answer.results;
}
