/**
 * RecordProducer against the real broker: concurrent calls share produce requests (the
 * idempotent producer allows one request in flight per connection) without losing their own
 * receipts, order per key, or isolation from another caller's refused record.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { RecordProducer } from "./record-producer.ts";
import { TopicAdmin } from "./topic-admin.ts";

const available = await requireService("kafka", "bridge record producer (concurrent calls)");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const PARTITIONS = 3;

describe.runIf(available)("RecordProducer: concurrent calls", () => {
  let stack: KafkaStack;

  beforeAll(() => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `record-producer-${run}`, requestTimeoutMs: 15_000 },
      { autoCreate: true, partitionsFor: () => PARTITIONS, defaultPartitions: PARTITIONS, replicationFactor: -1 },
      { idleTimeoutMs: 60_000, maxInstances: 1 },
    );
  });
  afterAll(async () => stack?.close());

  it("300 concurrent one-record calls: each receipt names its own record, offsets are gap-free, order per key holds", async () => {
    const topic = `edgebus.concurrent.${run}`;
    // Create the topic first so every call below is a produce, not a topic creation.
    await stack.producer.produce([{ topic, key: "warm-up", value: "warm-up" }]);
    const calls = Array.from({ length: 300 }, (_, n) => ({ key: `k${n % 10}`, value: `v${n}` }));
    const receipts = await Promise.all(calls.map((record) => stack.producer.produce([{ topic, ...record }])));

    expect(receipts.every((r) => r.length === 1)).toBe(true);
    const flat = receipts.map((r) => r[0] as { partition: number; offset: number });
    // Per partition: offsets unique and contiguous (every record written exactly once).
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      const offsets = flat
        .filter((r) => r.partition === partition)
        .map((r) => r.offset)
        .sort((a, b) => a - b);
      expect(new Set(offsets).size).toBe(offsets.length);
      if (offsets.length > 0) expect((offsets.at(-1) as number) - (offsets[0] as number)).toBe(offsets.length - 1);
    }
    // Per key: calls issued in order got increasing offsets.
    for (let k = 0; k < 10; k += 1) {
      const ofKey = flat.filter((_, n) => n % 10 === k).map((r) => r.offset);
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
    }
    // Each receipt points at that call's record.
    for (const n of [0, 1, 149, 299]) {
      const { partition, offset } = flat[n] as { partition: number; offset: number };
      const [record] = await stack.reader.read({ topic, partition, offset, timeoutMs: 5_000, maxBytes: 1_000_000 });
      expect(record).toMatchObject({ offset, key: calls[n]?.key });
      expect(Buffer.from(record?.value ?? "").toString()).toBe(calls[n]?.value);
    }
  }, 60_000);

  it("headers arrive as sent, a name repeated within one record included", async () => {
    const topic = `edgebus.headers.${run}`;
    const headers = [
      { key: "ce_id", value: "evt-1" },
      { key: "x-trace", value: "first" },
      { key: "x-trace", value: "second" },
    ];
    const [receipt] = await stack.producer.produce([{ topic, key: "k", value: "v", headers }]);
    const { partition, offset } = receipt as { partition: number; offset: number };
    const [record] = await stack.reader.read({ topic, partition, offset, timeoutMs: 5_000, maxBytes: 1_000_000 });
    expect(record?.headers).toEqual(headers);
  });

  it("a keyed record lands where Kafka's Java client puts it, and its key is stored as its UTF-8 bytes", async () => {
    const topic = `edgebus.keyed.${run}`;
    // murmur2 of the key's bytes as Kafka's own test suite pins it (UtilsTest.testMurmur2);
    // the Java client's partition is (hash & 0x7fffffff) % partitions.
    const javaHashes: Record<string, number> = {
      "21": -973932308,
      foobar: -790332482,
      "a-little-bit-long-string": -985981536,
      "a-little-bit-longer-string": -1486304829,
      lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8: -58897971,
      abc: 479470107,
    };
    const keys = [...Object.keys(javaHashes), "citoyen-é-ß"];
    const receipts = await stack.producer.produce(keys.map((key) => ({ topic, key, value: key })));
    for (const [key, hash] of Object.entries(javaHashes)) {
      expect(receipts[keys.indexOf(key)]?.partition, key).toBe((hash & 0x7fffffff) % PARTITIONS);
    }
    for (const [n, key] of keys.entries()) {
      const { partition, offset } = receipts[n] as { partition: number; offset: number };
      const [record] = await stack.reader.read({ topic, partition, offset, timeoutMs: 5_000, maxBytes: 1_000_000 });
      expect(record?.key).toBe(key);
      expect(Buffer.from(record?.value ?? "").toString()).toBe(key);
    }
  }, 60_000);

  it("records without a key, or with an empty one, are spread over the partitions", async () => {
    const topic = `edgebus.unkeyed.${run}`;
    const receipts = await stack.producer.produce(
      Array.from({ length: 2 * PARTITIONS }, (_, n) => ({
        topic,
        value: `v${n}`,
        ...(n % 2 === 0 ? { key: "" } : {}),
      })),
    );
    expect(new Set(receipts.map((r) => r.partition)).size).toBe(PARTITIONS);
  });

  it("keeps none of the caller's records while Kafka is asked, so a parsed request body can be collected meanwhile", async () => {
    v8.setFlagsFromString("--expose-gc");
    const collect = vm.runInNewContext("gc") as () => void;
    const topic = `edgebus.released.${run}`;
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // Held at the partition lookup, the call's first wait: the records are admitted and encoded.
    class GatedTopics extends TopicAdmin {
      override async ensure(topics: Iterable<string>): Promise<Map<string, number>> {
        await gate;
        return super.ensure(topics);
      }
    }
    const connection = { brokers: serviceUrls.kafkaBrokers, clientId: `released-${run}`, requestTimeoutMs: 15_000 };
    const topics = new GatedTopics(connection, {
      autoCreate: true,
      partitionsFor: () => PARTITIONS,
      defaultPartitions: PARTITIONS,
      replicationFactor: -1,
    });
    const producer = new RecordProducer(connection, topics);
    try {
      const tracked: WeakRef<object>[] = [];
      const produced = ((): Promise<unknown[]> => {
        const records = Array.from({ length: 20 }, (_, n) => ({
          topic,
          key: `k${n}`,
          value: `value ${n}`,
          headers: [{ key: "ce_id", value: `id-${n}` }],
        }));
        for (const record of records) tracked.push(new WeakRef(record), new WeakRef(record.headers));
        return producer.produce(records);
      })();
      await new Promise((resolve) => setTimeout(resolve, 20));
      collect();
      expect(tracked.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
      open();
      const receipts = (await produced) as { partition: number; offset: number }[];
      expect(receipts).toHaveLength(20);
      const { partition, offset } = receipts[7] as { partition: number; offset: number };
      const [record] = await stack.reader.read({ topic, partition, offset, timeoutMs: 5_000, maxBytes: 1_000_000 });
      expect(record).toMatchObject({ key: "k7", headers: [{ key: "ce_id", value: "id-7" }] });
      expect(Buffer.from(record?.value ?? "").toString()).toBe("value 7");
    } finally {
      open();
      await producer.close();
      await topics.close();
    }
  }, 60_000);

  it("a caller's refused record fails only that caller when calls share a request", async () => {
    const topic = `edgebus.isolation.${run}`;
    await stack.producer.produce([{ topic, value: "warm-up" }]);
    // The refused record alone in its partition: the broker checks a partition's batch against
    // its clock and took a late record behind a valid one of the same batch (Kafka 4.3).
    const settled = await Promise.allSettled([
      stack.producer.produce([{ topic, partition: 0, value: "ok-1" }]),
      stack.producer.produce([{ topic, partition: 1, value: "ok-2" }]),
      stack.producer.produce([{ topic, partition: 2, value: "late", timestamp: Number.MAX_SAFE_INTEGER }]),
      stack.producer.produce([{ topic, partition: 0, value: "ok-3" }]),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const refused = settled[2] as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(EdgebusError);
    expect((refused.reason as EdgebusError).code).toBe("bad_request");
  }, 60_000);
});
