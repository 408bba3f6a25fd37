import { describe, expect, it } from "vitest";
import type { ClusterSnapshot } from "./kafka/cluster-stats.ts";
import { KafkaMetrics, toFamilies } from "./kafka-metrics.ts";
import { BridgeMetrics } from "./metrics.ts";

const snapshot = (overrides: Partial<ClusterSnapshot> = {}): ClusterSnapshot => ({
  brokers: 3,
  partitions: [
    { topic: "gov.a", partition: 0, replicas: 3, inSyncReplicas: 3, leader: 1 },
    { topic: "gov.a", partition: 1, replicas: 3, inSyncReplicas: 2, leader: 2 },
  ],
  logEndOffsets: [
    { topic: "gov.a", partition: 0, offset: 10 },
    { topic: "gov.a", partition: 1, offset: 4 },
  ],
  groupOffsets: [
    { group: "g", topic: "gov.a", partition: 0, offset: 7 },
    { group: "g", topic: "gov.b", partition: 0, offset: 2 },
  ],
  errors: [],
  ...overrides,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("KafkaMetrics", () => {
  it("renders the kafka_exporter families: brokers, log end, under-replication, committed offset and lag", () => {
    const text = new BridgeMetrics().render(toFamilies(snapshot()));
    expect(text).toContain("# TYPE kafka_brokers gauge\nkafka_brokers 3\n");
    expect(text).toContain('kafka_topic_partition_current_offset{topic="gov.a",partition="0"} 10');
    expect(text).toContain('kafka_topic_partition_under_replicated_partition{topic="gov.a",partition="0"} 0');
    expect(text).toContain('kafka_topic_partition_under_replicated_partition{topic="gov.a",partition="1"} 1');
    expect(text).toContain('kafka_consumergroup_current_offset{consumergroup="g",topic="gov.a",partition="0"} 7');
    expect(text).toContain('kafka_consumergroup_lag{consumergroup="g",topic="gov.a",partition="0"} 3');
    // No log end known for gov.b (its offsets failed): a committed offset, but no made-up lag.
    expect(text).toContain('kafka_consumergroup_current_offset{consumergroup="g",topic="gov.b",partition="0"} 2');
    expect(text).not.toContain('kafka_consumergroup_lag{consumergroup="g",topic="gov.b"');
  });

  it("collects once per cache period however many scrapes come, concurrent ones sharing one collection", async () => {
    let collections = 0;
    const metrics = new KafkaMetrics(
      async () => {
        collections++;
        await sleep(30);
        return snapshot({ brokers: collections });
      },
      { cacheMs: 200, timeoutMs: 1000 },
    );
    const storm = await Promise.all(Array.from({ length: 100 }, () => metrics.families()));
    expect(collections).toBe(1);
    expect(storm.every((f) => f.find((x) => x.name === "kafka_brokers")?.samples[0]?.value === 1)).toBe(true);
    for (let i = 0; i < 50; i++) await metrics.families();
    expect(collections).toBe(1);
    await sleep(220);
    const later = await metrics.families();
    expect(collections).toBe(2);
    expect(later.find((x) => x.name === "kafka_brokers")?.samples[0]?.value).toBe(2);
  });

  it("answers within the timeout with the last collection when Kafka hangs, and counts each failed part", async () => {
    const errors: string[] = [];
    let hang = false;
    let calls = 0;
    const metrics = new KafkaMetrics(
      async () => {
        calls++;
        if (hang) return new Promise<ClusterSnapshot>(() => {});
        return snapshot({ errors: [{ stage: "groups", message: "broker 3 unreachable" }] });
      },
      { cacheMs: 0, timeoutMs: 100 },
      (stage) => errors.push(stage),
    );
    expect((await metrics.families()).find((f) => f.name === "kafka_brokers")).toBeDefined();
    expect(errors).toEqual(["groups"]);
    hang = true;
    const started = Date.now();
    const stale = await metrics.families();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(stale.find((f) => f.name === "kafka_brokers")?.samples[0]?.value).toBe(3);
    expect(errors).toEqual(["groups", "timeout"]);
    // The hung collection is still the one in flight: no second one piles up behind it.
    await metrics.families();
    expect(calls).toBe(2);
  });

  it("a failed metadata read leaves kafka_brokers out rather than reporting a number it does not know", () => {
    const families = toFamilies(snapshot({ brokers: undefined, partitions: [], logEndOffsets: [], groupOffsets: [] }));
    expect(families.find((f) => f.name === "kafka_brokers")).toBeUndefined();
  });
});
