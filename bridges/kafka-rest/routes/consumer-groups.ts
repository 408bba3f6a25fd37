import type { Context, Hono } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import { kafkaUnavailable } from "../../kafka/kafka-errors.ts";
import type { ConsumedRecord } from "../../kafka/record.ts";
import type { TopicAdmin } from "../../kafka/topic-admin.ts";
import type { ConsumerInstanceSettings } from "../consumer-instance.ts";
import type { GatewayContext } from "../gateway-context.ts";
import { readJson } from "../read-json.ts";
import { badRequest } from "../upstash-errors.ts";
import {
  consumeRequest,
  consumerHeaders,
  consumerId,
  oneOrMany,
  topicPartition,
  topicPartitionOffset,
} from "../wire.ts";

/**
 * Consumer groups: `POST /consume/{g}/{i}`, `POST /commit/{g}/{i}`, `POST /committed/{g}/{i}`,
 * `GET /consumers`, `POST /delete-consumer/{g}/{i}`.
 */
export function registerConsumerGroups(app: Hono, ctx: GatewayContext): void {
  const consume = async (c: Context, group: string, instance: string, topics: string[], timeout?: number) => {
    const settings = instanceSettings(c, ctx.consumerDefaults);
    await ctx.topics.require(topics);
    const consumer = ctx.consumers.obtain(group, instance, settings);
    if (!consumer) throw new EdgebusError("rate_limited", "too many consumer instances on this bridge");
    const records: ConsumedRecord[] = await consumer.poll(
      topics,
      Math.min(timeout ?? 1000, ctx.limits.maxWaitMs),
      ctx.limits.maxRecordsPerConsume,
    );
    return c.json(records);
  };

  app.post("/consume/:group/:instance", async (c) => {
    const { group, instance } = consumerPath(c);
    const body = await readJson(c, consumeRequest, { maxBytes: ctx.limits.maxBodyBytes });
    if (!body) throw badRequest("request body is required");
    return consume(c, group, instance, body.topics ?? [body.topic as string], body.timeout);
  });
  // Documented form the JS client does not use: `GET /consume/{g}/{i}/{topic}?timeout=ms`.
  app.get("/consume/:group/:instance/:topic", async (c) => {
    const { group, instance } = consumerPath(c);
    const raw = c.req.query("timeout");
    if (raw !== undefined && !/^\d{1,7}$/.test(raw)) throw badRequest("timeout must be milliseconds");
    return consume(c, group, instance, [c.req.param("topic")], raw === undefined ? undefined : Number(raw));
  });

  app.post("/commit/:group/:instance", async (c) => {
    const { group, instance } = consumerPath(c);
    const body = await readJson(c, oneOrMany(topicPartitionOffset), {
      maxBytes: ctx.limits.maxBodyBytes,
      optional: true,
    });
    const consumer = ctx.consumers.get(group, instance);
    if (!consumer) throw new EdgebusError("not_found", `no consumer instance ${group}/${instance}`);
    await consumer.commit(body);
    return c.json({ result: "Success", status: 200 });
  });

  app.post("/committed/:group/:instance", async (c) => {
    const { group } = consumerPath(c);
    const body = await readJson(c, oneOrMany(topicPartition), { maxBytes: ctx.limits.maxBodyBytes });
    const partitions = body ?? [];
    await ctx.topics.require(partitions.map((p) => p.topic));
    let groups: Awaited<ReturnType<TopicAdmin["admin"]["listConsumerGroupOffsets"]>>;
    try {
      groups = await ctx.topics.admin.listConsumerGroupOffsets({ groups: [group] });
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

  app.get("/consumers", (c) => {
    const groups = new Map<string, { name: string; topics: { topic: string; partitions: number[] }[] }[]>();
    for (const consumer of ctx.consumers.list()) {
      const instances = groups.get(consumer.group) ?? [];
      instances.push({ name: consumer.name, topics: consumer.assignments() });
      groups.set(consumer.group, instances);
    }
    return c.json([...groups].map(([name, instances]) => ({ name, instances })));
  });

  const deleteConsumer = async (c: Context) => {
    const { group, instance } = consumerPath(c);
    if (!(await ctx.consumers.remove(group, instance))) {
      throw new EdgebusError("not_found", `no consumer instance ${group}/${instance}`);
    }
    return c.json({ result: "Success", status: 200 });
  };
  app.post("/delete-consumer/:group/:instance", deleteConsumer);
  // The docs also allow DELETE.
  app.delete("/delete-consumer/:group/:instance", deleteConsumer);
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
