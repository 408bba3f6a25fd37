/**
 * Every bridge metric of docs/metrics.md caused for real and read back from `/metrics` of a bridge
 * (startBridge) against the real broker: produce → `kafka_topic_partition_current_offset`, a
 * consumer group that commits and then falls behind → `kafka_consumergroup_current_offset` and
 * `kafka_consumergroup_lag`, `kafka_brokers`, `kafka_topic_partition_under_replicated_partition`
 * (0 on a healthy cluster; 1 and fewer brokers are asserted in the chaos suite, which kills
 * brokers), a mirrored event with an old `time` → `edgebus_bridge_mirror_delay_seconds`, requests
 * → `edgebus_bridge_http_request_duration_seconds`. The cache and the timeout are unit-tested in
 * kafka-metrics.test.ts.
 */
import { Kafka } from "@upstash/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIRROR_PATH } from "#shared/mirror-protocol.ts";
import { signMirrorRequest } from "#shared/mirror-signature.ts";
import { serviceUrls } from "../scripts/service-probe.ts";
import { requireService } from "../test/support/services.ts";
import { parseBridgeConfig } from "./config.ts";
import { type RunningBridge, startBridge } from "./server.ts";

const available =
  (await requireService("kafka", "bridge metrics")) &&
  (await requireService("redis", "bridge metrics (mirror nonces)"));
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const topic = `bm-${run}.orders`;
const group = `bm-${run}-group`;
const MIRROR_SECRET = "metrics-mirror-secret-0001";
const credentials = { username: "edgebus", password: "metrics-password-0001" };

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = (pair[2] as string).replace(/\\"/g, '"').replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

describe.runIf(available)("bridge metrics read back from /metrics", () => {
  let bridge: RunningBridge;
  let kafka: Kafka;
  const scrape = async () => {
    const answer = await fetch(`${bridge.url}/metrics`);
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain; version=0.0.4/);
    return parseExposition(await answer.text());
  };
  const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  /** Scrapes until `done` holds for the samples (the Kafka metrics are cached for cacheMs). */
  const scrapeUntil = async (done: (samples: Sample[]) => boolean, what: string) => {
    let samples = await scrape();
    for (let i = 0; i < 50 && !done(samples); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      samples = await scrape();
    }
    expect(done(samples), what).toBe(true);
    return samples;
  };

  beforeAll(async () => {
    bridge = await startBridge(
      parseBridgeConfig({
        port: 0,
        kafka: {
          brokers: serviceUrls.kafkaBrokers,
          clientId: `bm-${run}`,
          requestTimeoutMs: 10_000,
          topics: { createPatterns: [`bm-${run}.*`], defaultPartitions: 1 },
        },
        kafkaRest: credentials,
        redisRest: { enabled: false },
        mirror: {
          secret: MIRROR_SECRET,
          nonceRedisUrl: serviceUrls.redis,
          nonceKeyPrefix: `edgebus-test:bm-${run}:`,
          rename: [{ from: "gov.*", to: `bm-${run}.gov.*` }],
        },
        metrics: { kafka: { cacheMs: 200, timeoutMs: 5000 } },
      }),
    );
    kafka = new Kafka({ url: `${bridge.url}/kafka`, ...credentials });
  }, 60_000);
  afterAll(async () => {
    await kafka
      ?.admin()
      .removeConsumerInstance(group, "i1")
      .catch(() => undefined);
    await bridge?.close();
  });

  it("produce → kafka_topic_partition_current_offset (the log end), with kafka_brokers and under-replication", async () => {
    await kafka.producer().produceMany([1, 2, 3, 4, 5].map((n) => ({ topic, value: `v${n}`, partition: 0 })));
    const samples = await scrapeUntil(
      (s) => find(s, "kafka_topic_partition_current_offset", { topic, partition: "0" })[0]?.value === 5,
      "log end offset 5",
    );
    expect(find(samples, "kafka_brokers")[0]?.value).toBeGreaterThanOrEqual(1);
    expect(find(samples, "kafka_topic_partition_under_replicated_partition", { topic, partition: "0" })).toEqual([
      { name: "kafka_topic_partition_under_replicated_partition", labels: { topic, partition: "0" }, value: 0 },
    ]);
    expect(find(samples, "edgebus_bridge_kafka_rest_produced_total")[0]?.value).toBe(5);
  });

  it("a consumer group that commits and then falls behind → kafka_consumergroup_current_offset and kafka_consumergroup_lag", async () => {
    const consumer = kafka.consumer();
    const seen: string[] = [];
    for (let i = 0; i < 30 && seen.length < 5; i++) {
      const messages = await consumer.consume({
        consumerGroupId: group,
        instanceId: "i1",
        topics: [topic],
        autoCommit: false,
        autoOffsetReset: "earliest",
        timeout: 1000,
      });
      seen.push(...messages.map((m) => m.value));
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    await consumer.commit({ consumerGroupId: group, instanceId: "i1", offset: { topic, partition: 0, offset: 3 } });
    let samples = await scrapeUntil(
      (s) =>
        find(s, "kafka_consumergroup_current_offset", { consumergroup: group, topic, partition: "0" })[0]?.value === 3,
      "committed offset 3",
    );
    expect(find(samples, "kafka_consumergroup_lag", { consumergroup: group, topic, partition: "0" })[0]?.value).toBe(2);
    // Four more records and no commit: the group lags by six.
    await kafka.producer().produceMany([6, 7, 8, 9].map((n) => ({ topic, value: `v${n}`, partition: 0 })));
    samples = await scrapeUntil(
      (s) => find(s, "kafka_consumergroup_lag", { consumergroup: group, topic, partition: "0" })[0]?.value === 6,
      "lag 6",
    );
    expect(find(samples, "kafka_consumergroup_current_offset", { consumergroup: group, topic })[0]?.value).toBe(3);
    expect(find(samples, "kafka_topic_partition_current_offset", { topic })[0]?.value).toBe(9);
  }, 60_000);

  it("a mirrored event whose edge time is an hour old → edgebus_bridge_mirror_delay_seconds", async () => {
    const body = JSON.stringify({
      events: [
        {
          specversion: "1.0",
          id: `bm-${run}-1`,
          source: "/services/identity",
          type: "gov.auth.citizen.created",
          time: new Date(Date.now() - 3600_000).toISOString(),
          data: { id: 1 },
        },
      ],
    });
    const answer = await fetch(`${bridge.url}${MIRROR_PATH}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...(await signMirrorRequest(MIRROR_SECRET, body)) },
    });
    expect(answer.status, await answer.clone().text()).toBe(200);
    const samples = await scrape();
    expect(find(samples, "edgebus_bridge_mirror_delay_seconds_count")[0]?.value).toBe(1);
    const sum = find(samples, "edgebus_bridge_mirror_delay_seconds_sum")[0]?.value ?? 0;
    expect(sum).toBeGreaterThanOrEqual(3600);
    expect(sum).toBeLessThan(3660);
    const bucket = (le: string) => find(samples, "edgebus_bridge_mirror_delay_seconds_bucket", { le })[0]?.value;
    expect([bucket("1800"), bucket("3600"), bucket("21600"), bucket("+Inf")]).toEqual([0, 0, 1, 1]);
    expect(find(samples, "edgebus_bridge_mirror_events_total", { status: "acked" })[0]?.value).toBe(1);
  });

  it("requests → edgebus_bridge_http_request_duration_seconds and edgebus_bridge_http_requests_total by area", async () => {
    await fetch(`${bridge.url}/healthz`);
    await fetch(`${bridge.url}/nothing-here`);
    const samples = await scrape();
    for (const area of ["kafka", "mirror", "healthz", "metrics", "other"]) {
      const count = find(samples, "edgebus_bridge_http_request_duration_seconds_count", { area })[0]?.value ?? 0;
      expect(count, area).toBeGreaterThanOrEqual(1);
      const inf = find(samples, "edgebus_bridge_http_request_duration_seconds_bucket", { area, le: "+Inf" })[0];
      expect(inf?.value).toBe(count);
    }
    expect(find(samples, "edgebus_bridge_http_requests_total", { area: "mirror", status: "2xx" })[0]?.value).toBe(1);
    expect(find(samples, "edgebus_bridge_http_requests_total", { area: "other", status: "4xx" })[0]?.value).toBe(1);
    // The process's own figures, under the client libraries' names.
    for (const name of ["process_resident_memory_bytes", "nodejs_heap_size_used_bytes", "process_cpu_seconds_total"]) {
      expect(find(samples, name)[0]?.value, name).toBeGreaterThan(0);
    }
    // No Kafka part failed against a healthy broker.
    expect(find(samples, "edgebus_bridge_kafka_metrics_errors_total").every((s) => s.value === 0)).toBe(true);
  });
});
