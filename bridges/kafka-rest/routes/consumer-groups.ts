import type { Context, Hono } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import { kafkaUnavailable } from "../../kafka/kafka-errors.ts";
import type { ConsumedRecord } from "../../kafka/record.ts";
import type { TopicAdmin } from "../../kafka/topic-admin.ts";
import { SCOPE } from "../basic-auth.ts";
import type { ConsumerInstanceSettings } from "../consumer-instance.ts";
import type { GatewayContext, GatewayEnv } from "../gateway-context.ts";
import { readJson } from "../read-json.ts";
import { adminTimeout, badRequest, withinTimeout } from "../upstash-errors.ts";
import {
  consumeRequest,
  consumerHeaders,
  consumerId,
  oneOrMany,
  topicPartition,
  topicPartitionOffset,
} from "../wire.ts";

/**
 * Consumer groups: `[GET|POST] /consume/{g}/{i}`, `GET /consume/{g}/{i}/{topic}?timeout=`,
 * `[GET|POST] /commit/{g}/{i}`, `[GET|POST] /committed/{g}/{i}?timeout=`, `GET /consumers`,
 * `[POST|DELETE] /delete-consumer/{g}/{i}`. The group is checked against the caller's
 * group patterns before any body is read, the topics against its fetch patterns.
 */
export function registerConsumerGroups(app: Hono<GatewayEnv>, ctx: GatewayContext): void {
  const body = { maxBytes: ctx.limits.maxBodyBytes, budget: ctx.bodyBudget };
  const consume = async (
    c: Context<GatewayEnv>,
    group: string,
    instance: string,
    topics: string[],
    timeout?: number,
  ) => {
    if (new Set(topics).size > ctx.limits.maxPartitionsPerRequest) {
      throw new EdgebusError("payload_too_large", `at most ${ctx.limits.maxPartitionsPerRequest} topics per consume`);
    }
    c.get(SCOPE).requireFetch(topics);
    const settings = instanceSettings(c, ctx.consumerDefaults);
    await ctx.topics.require(topics);
    const consumer = ctx.consumers.obtain(group, instance, settings);
    if (!consumer) throw new EdgebusError("rate_limited", "too many consumer instances on this bridge");
    const records: ConsumedRecord[] = await consumer.poll(
      topics,
      Math.min(timeout ?? 1000, ctx.limits.maxWaitMs),
      ctx.limits.maxRecordsPerConsume,
      ctx.limits.maxResponseBytes,
    );
    return c.json(records);
  };

  app.on(["GET", "POST"], "/consume/:group/:instance", async (c) => {
    const { group, instance } = consumerPath(c);
    const request = await readJson(c, consumeRequest, body);
    if (!request) throw badRequest("request body is required");
    return consume(c, group, instance, request.topics ?? [request.topic as string], request.timeout);
  });
  // Documented form the JS client does not use: `GET /consume/{g}/{i}/{topic}?timeout=ms`.
  app.get("/consume/:group/:instance/:topic", async (c) => {
    const { group, instance } = consumerPath(c);
    const raw = c.req.query("timeout");
    if (raw !== undefined && !/^\d{1,7}$/.test(raw)) throw badRequest("timeout must be milliseconds");
    return consume(c, group, instance, [c.req.param("topic")], raw === undefined ? undefined : Number(raw));
  });

  app.on(["GET", "POST"], "/commit/:group/:instance", async (c) => {
    const { group, instance } = consumerPath(c);
    const offsets = await readJson(c, oneOrMany(topicPartitionOffset), { ...body, optional: true });
    if (offsets) c.get(SCOPE).requireFetch(offsets.map((o) => o.topic));
    const consumer = ctx.consumers.get(group, instance);
    if (!consumer) throw new EdgebusError("not_found", `no consumer instance ${group}/${instance}`);
    await consumer.commit(offsets);
    return c.json({ result: "Success", status: 200 });
  });

  app.on(["GET", "POST"], "/committed/:group/:instance", async (c) => {
    const { group } = consumerPath(c);
    const timeoutMs = adminTimeout(c);
    const partitions = (await readJson(c, oneOrMany(topicPartition), body)) ?? [];
    if (partitions.length > ctx.limits.maxPartitionsPerRequest) {
      throw new EdgebusError(
        "payload_too_large",
        `at most ${ctx.limits.maxPartitionsPerRequest} partitions per request`,
      );
    }
    c.get(SCOPE).requireFetch(partitions.map((p) => p.topic));
    await ctx.topics.require(partitions.map((p) => p.topic));
    let groups: Awaited<ReturnType<TopicAdmin["admin"]["listConsumerGroupOffsets"]>>;
    try {
      groups = await withinTimeout(
        ctx.topics.admin.listConsumerGroupOffsets({ groups: [group] }),
        timeoutMs,
        `reading committed offsets of ${group}`,
      );
    } catch (error) {
      if (error instanceof EdgebusError) throw error;
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
    const scope = c.get(SCOPE);
    const groups = new Map<string, { name: string; topics: { topic: string; partitions: number[] }[] }[]>();
    for (const consumer of ctx.consumers.list()) {
      // Only the groups this login may use: another service's groups are not its business.
      if (!scope.canUseGroup(consumer.group)) continue;
      const instances = groups.get(consumer.group) ?? [];
      instances.push({ name: consumer.name, topics: consumer.assignments() });
      groups.set(consumer.group, instances);
    }
    return c.json([...groups].map(([name, instances]) => ({ name, instances })));
  });

  const deleteConsumer = async (c: Context<GatewayEnv>) => {
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

/** The group and instance of the path, with the group checked against the caller's group patterns. */
function consumerPath(c: Context<GatewayEnv>): { group: string; instance: string } {
  const group = consumerId.safeParse(c.req.param("group"));
  const instance = consumerId.safeParse(c.req.param("instance"));
  if (!group.success || !instance.success) {
    throw badRequest("consumer group and instance ids: 1-255 of letters, digits and . _ - :");
  }
  c.get(SCOPE).requireGroup(group.data);
  return { group: group.data, instance: instance.data };
}

function instanceSettings(c: Context<GatewayEnv>, defaults: ConsumerInstanceSettings): ConsumerInstanceSettings {
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
