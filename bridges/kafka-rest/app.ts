import { type Context, Hono } from "hono";
import { EdgebusError } from "../../shared/src/errors.ts";
import { kafkaUnavailable } from "../kafka/kafka-errors.ts";
import type { PartitionReader } from "../kafka/partition-reader.ts";
import type { ConsumedRecord, RecordToProduce } from "../kafka/record.ts";
import type { RecordProducer } from "../kafka/record-producer.ts";
import type { TopicAdmin } from "../kafka/topic-admin.ts";
import { type BasicCredentials, basicAuth } from "./basic-auth.ts";
import type { ConsumerInstanceSettings } from "./consumer-instance.ts";
import type { ConsumerRegistry } from "./consumer-registry.ts";
import { readJson } from "./read-json.ts";
import { badRequest, upstashErrorResponse } from "./upstash-errors.ts";
import {
  consumeRequest,
  consumerHeaders,
  consumerId,
  fetchRequest,
  oneOrMany,
  type ProduceMessage,
  produceMessage,
  topicPartition,
  topicPartitionOffset,
  topicProduceMessage,
} from "./wire.ts";

export interface KafkaRestLimits {
  readonly maxBodyBytes: number;
  readonly maxMessagesPerProduce: number;
  /** Longest a fetch/consume call may wait for data (ms); larger client timeouts are capped. */
  readonly maxWaitMs: number;
  readonly maxRecordsPerConsume: number;
  readonly maxFetchBytes: number;
}

export const DEFAULT_KAFKA_REST_LIMITS: KafkaRestLimits = {
  maxBodyBytes: 1_048_576,
  maxMessagesPerProduce: 1000,
  maxWaitMs: 30_000,
  maxRecordsPerConsume: 500,
  maxFetchBytes: 1_048_576,
};

export interface KafkaRestDeps {
  readonly topics: TopicAdmin;
  readonly producer: RecordProducer;
  readonly reader: PartitionReader;
  readonly consumers: ConsumerRegistry;
  readonly credentials: BasicCredentials;
  readonly limits?: Partial<KafkaRestLimits>;
  /** Defaults for instances whose creating call sent no `Kafka-*` headers (Upstash's defaults). */
  readonly consumerDefaults?: Partial<ConsumerInstanceSettings>;
  /** Called with every produced record count (metrics). */
  readonly onProduced?: (count: number) => void;
}

/**
 * The Upstash Kafka REST protocol over Apache Kafka, as `@upstash/kafka` 1.3.5 speaks it
 * (see /work/shared/notes/upstash-kafka-rest.md). Mount it under a prefix, e.g.
 * `app.route("/kafka", createKafkaRestApp(deps))`; the client's `url` is then `http://host/kafka`.
 * Every response is JSON; errors are `{error, status, code}` with a 4xx for bad input.
 */
export function createKafkaRestApp(deps: KafkaRestDeps): Hono {
  const limits = { ...DEFAULT_KAFKA_REST_LIMITS, ...deps.limits };
  const consumerDefaults: ConsumerInstanceSettings = {
    autoCommit: true,
    autoCommitIntervalMs: 5000,
    offsetReset: "latest",
    sessionTimeoutMs: 120_000,
    ...deps.consumerDefaults,
  };
  const app = new Hono();
  app.onError((error, c) => upstashErrorResponse(c, error));
  app.use("*", basicAuth(deps.credentials));

  const produce = async (messages: readonly ProduceMessage[]) => {
    if (messages.length === 0) throw badRequest("no messages to produce");
    if (messages.length > limits.maxMessagesPerProduce) {
      throw new EdgebusError("payload_too_large", `at most ${limits.maxMessagesPerProduce} messages per request`);
    }
    const receipts = await deps.producer.produce(messages.map(toRecord));
    deps.onProduced?.(receipts.length);
    return receipts.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp }));
  };

  // The client sends a single object for produce() and still expects an array back.
  app.post("/produce", async (c) => {
    const body = await readJson(c, oneOrMany(produceMessage), { maxBytes: limits.maxBodyBytes });
    return c.json(await produce(body ?? []));
  });
  // Documented forms the JS client does not use: a topic in the path, one message or many.
  app.post("/produce/:topic", async (c) => {
    const topic = c.req.param("topic");
    const body = await readJson(c, oneOrMany(topicProduceMessage), { maxBytes: limits.maxBodyBytes });
    return c.json(await produce((body ?? []).map((m) => ({ ...m, topic }))));
  });
  app.get("/produce/:topic/:message", async (c) => {
    const key = c.req.query("key");
    const [receipt] = await produce([
      { topic: c.req.param("topic"), value: c.req.param("message"), ...(key === undefined ? {} : { key }) },
    ]);
    return c.json(receipt);
  });

  app.post("/fetch", async (c) => {
    const body = await readJson(c, fetchRequest, { maxBytes: limits.maxBodyBytes });
    if (!body) throw badRequest("request body is required");
    const triples = [
      ...(body.topic !== undefined
        ? [{ topic: body.topic, partition: body.partition ?? 0, offset: body.offset ?? 0 }]
        : []),
      ...(body.topicPartitionOffsets ?? []),
    ];
    const timeoutMs = Math.min(body.timeout ?? 1000, limits.maxWaitMs);
    const results = await Promise.all(
      triples.map((t) => deps.reader.read({ ...t, timeoutMs, maxBytes: limits.maxFetchBytes })),
    );
    return c.json(results.flat());
  });

  app.post("/consume/:group/:instance", async (c) => {
    const { group, instance } = consumerPath(c);
    const body = await readJson(c, consumeRequest, { maxBytes: limits.maxBodyBytes });
    if (!body) throw badRequest("request body is required");
    const topics = body.topics ?? [body.topic as string];
    const settings = instanceSettings(c, consumerDefaults);
    await deps.topics.require(topics);
    const consumer = deps.consumers.obtain(group, instance, settings);
    if (!consumer) throw new EdgebusError("rate_limited", "too many consumer instances on this bridge");
    const records: ConsumedRecord[] = await consumer.poll(
      topics,
      Math.min(body.timeout ?? 1000, limits.maxWaitMs),
      limits.maxRecordsPerConsume,
    );
    return c.json(records);
  });

  app.post("/commit/:group/:instance", async (c) => {
    const { group, instance } = consumerPath(c);
    const body = await readJson(c, oneOrMany(topicPartitionOffset), { maxBytes: limits.maxBodyBytes, optional: true });
    const consumer = deps.consumers.get(group, instance);
    if (!consumer) throw new EdgebusError("not_found", `no consumer instance ${group}/${instance}`);
    await consumer.commit(body);
    return c.json({ result: "Success", status: 200 });
  });

  app.post("/committed/:group/:instance", async (c) => {
    const { group } = consumerPath(c);
    const body = await readJson(c, oneOrMany(topicPartition), { maxBytes: limits.maxBodyBytes });
    const partitions = body ?? [];
    await deps.topics.require(partitions.map((p) => p.topic));
    let groups: Awaited<ReturnType<TopicAdmin["admin"]["listConsumerGroupOffsets"]>>;
    try {
      groups = await deps.topics.admin.listConsumerGroupOffsets({ groups: [group] });
    } catch (error) {
      throw kafkaUnavailable(`reading committed offsets of ${group} failed`, error);
    }
    const committed = new Map<string, number>();
    for (const topic of groups[0]?.topics ?? []) {
      for (const p of topic.partitions)
        committed.set(`${topic.name}\u0000${p.partitionIndex}`, Number(p.committedOffset));
    }
    // -1 is Kafka's own "no committed offset".
    return c.json(partitions.map((p) => ({ ...p, offset: committed.get(`${p.topic}\u0000${p.partition}`) ?? -1 })));
  });

  app.get("/topics", async (c) => c.json(await deps.topics.partitionCounts()));

  app.get("/consumers", (c) => {
    const groups = new Map<string, { name: string; topics: { topic: string; partitions: number[] }[] }[]>();
    for (const consumer of deps.consumers.list()) {
      const instances = groups.get(consumer.group) ?? [];
      instances.push({ name: consumer.name, topics: consumer.assignments() });
      groups.set(consumer.group, instances);
    }
    return c.json([...groups].map(([name, instances]) => ({ name, instances })));
  });

  app.post("/delete-consumer/:group/:instance", async (c) => {
    const { group, instance } = consumerPath(c);
    if (!(await deps.consumers.remove(group, instance))) {
      throw new EdgebusError("not_found", `no consumer instance ${group}/${instance}`);
    }
    return c.json({ result: "Success", status: 200 });
  });

  app.post("/offsets/:timestamp", async (c) => {
    const raw = c.req.param("timestamp");
    const timestamp = raw === "earliest" ? -2n : raw === "latest" ? -1n : /^\d{1,16}$/.test(raw) ? BigInt(raw) : null;
    if (timestamp === null)
      throw badRequest(`offsets timestamp must be earliest, latest or milliseconds, got "${raw}"`);
    const body = await readJson(c, oneOrMany(topicPartition), { maxBytes: limits.maxBodyBytes });
    const partitions = body ?? [];
    const counts = await deps.topics.require(partitions.map((p) => p.topic));
    for (const p of partitions) {
      if (p.partition >= (counts.get(p.topic) ?? 0))
        throw new EdgebusError("not_found", `topic ${p.topic} has no partition ${p.partition}`);
    }
    const lookup = async (ts: bigint) => {
      const byTopic = new Map<string, number[]>();
      for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
      try {
        const listed = await deps.topics.admin.listOffsets({
          topics: [...byTopic].map(([name, ps]) => ({
            name,
            partitions: ps.map((partitionIndex) => ({ partitionIndex, timestamp: ts })),
          })),
        });
        const found = new Map<string, number>();
        for (const t of listed)
          for (const p of t.partitions) found.set(`${t.name}\u0000${p.partitionIndex}`, Number(p.offset));
        return found;
      } catch (error) {
        throw kafkaUnavailable("listing offsets failed", error);
      }
    };
    const found = await lookup(timestamp);
    // No record at or after the time: answer the log-end offset (where a reader would start),
    // never Kafka's -1, which no client could seek to.
    const missing = partitions.some((p) => (found.get(`${p.topic}\u0000${p.partition}`) ?? -1) < 0);
    const latest = missing ? await lookup(-1n) : found;
    return c.json(
      partitions.map((p) => {
        const key = `${p.topic}\u0000${p.partition}`;
        const offset = found.get(key) ?? -1;
        return { ...p, offset: offset >= 0 ? offset : (latest.get(key) ?? 0) };
      }),
    );
  });

  // A mounted sub-app's notFound() is not consulted by the parent; a catch-all route is.
  app.all("*", () => {
    throw new EdgebusError("not_found", "no such Kafka REST route");
  });

  return app;
}

function toRecord(message: ProduceMessage): RecordToProduce {
  return {
    topic: message.topic,
    value: message.value,
    ...(message.key === undefined ? {} : { key: message.key }),
    ...(message.partition === undefined ? {} : { partition: message.partition }),
    ...(message.timestamp === undefined ? {} : { timestamp: message.timestamp }),
    ...(message.headers === undefined ? {} : { headers: message.headers }),
  };
}

function consumerPath(c: Context): { group: string; instance: string } {
  const group = consumerId.safeParse(c.req.param("group"));
  const instance = consumerId.safeParse(c.req.param("instance"));
  if (!group.success || !instance.success) {
    throw badRequest("consumer group and instance ids: 1-255 of letters, digits and . _ - :");
  }
  return { group: group.data, instance: instance.data };
}

function instanceSettings(c: Context, defaults: ConsumerInstanceSettings): ConsumerInstanceSettings {
  const headers = consumerHeaders.safeParse({
    autoCommit: c.req.header("kafka-enable-auto-commit"),
    autoCommitIntervalMs: c.req.header("kafka-auto-commit-interval"),
    offsetReset: c.req.header("kafka-auto-offset-reset"),
    sessionTimeoutMs: c.req.header("kafka-session-timeout-ms"),
  });
  if (!headers.success) {
    throw badRequest(
      "invalid Kafka-* consumer header",
      headers.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    );
  }
  const h = headers.data;
  return {
    autoCommit: h.autoCommit === undefined ? defaults.autoCommit : h.autoCommit === "true",
    autoCommitIntervalMs: h.autoCommitIntervalMs ?? defaults.autoCommitIntervalMs,
    offsetReset: h.offsetReset ?? defaults.offsetReset,
    sessionTimeoutMs: h.sessionTimeoutMs ?? defaults.sessionTimeoutMs,
  };
}
