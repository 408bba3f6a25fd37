import type { Hono } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import { kafkaUnavailable } from "../../kafka/kafka-errors.ts";
import { SCOPE } from "../basic-auth.ts";
import type { GatewayContext, GatewayEnv } from "../gateway-context.ts";
import { readJson } from "../read-json.ts";
import { adminTimeout, badRequest, withinTimeout } from "../upstash-errors.ts";
import { oneOrMany, topicPartition } from "../wire.ts";

/**
 * `GET /topics` (partition counts of the topics the caller may produce to or read) and
 * `[GET|POST] /offsets/{timestamp|earliest|latest}?timeout=` (topics the caller may read).
 */
export function registerTopicMetadata(app: Hono<GatewayEnv>, ctx: GatewayContext): void {
  app.get("/topics", async (c) => {
    const scope = c.get(SCOPE);
    const counts = await ctx.topics.partitionCounts();
    return c.json(
      Object.fromEntries(Object.entries(counts).filter(([topic]) => scope.canProduce(topic) || scope.canFetch(topic))),
    );
  });

  app.on(["GET", "POST"], "/offsets/:timestamp", async (c) => {
    const timeoutMs = adminTimeout(c);
    const raw = c.req.param("timestamp");
    const timestamp = raw === "earliest" ? -2n : raw === "latest" ? -1n : /^\d{1,16}$/.test(raw) ? BigInt(raw) : null;
    if (timestamp === null)
      throw badRequest(`offsets timestamp must be earliest, latest or milliseconds, got "${raw}"`);
    const body = await readJson(c, oneOrMany(topicPartition), {
      maxBytes: ctx.limits.maxBodyBytes,
      budget: ctx.bodyBudget,
    });
    const partitions = body ?? [];
    if (partitions.length > ctx.limits.maxPartitionsPerRequest) {
      throw new EdgebusError(
        "payload_too_large",
        `at most ${ctx.limits.maxPartitionsPerRequest} partitions per request`,
      );
    }
    c.get(SCOPE).requireFetch(partitions.map((p) => p.topic));
    const counts = await ctx.topics.require(partitions.map((p) => p.topic));
    for (const p of partitions) {
      if (p.partition >= (counts.get(p.topic) ?? 0))
        throw new EdgebusError("not_found", `topic ${p.topic} has no partition ${p.partition}`);
    }
    const lookup = async (ts: bigint) => {
      const byTopic = new Map<string, number[]>();
      for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
      try {
        const listed = await withinTimeout(
          ctx.topics.admin.listOffsets({
            topics: [...byTopic].map(([name, ps]) => ({
              name,
              partitions: ps.map((partitionIndex) => ({ partitionIndex, timestamp: ts })),
            })),
          }),
          timeoutMs,
          "listing offsets",
        );
        const found = new Map<string, number>();
        for (const t of listed)
          for (const p of t.partitions) found.set(`${t.name}\u0000${p.partitionIndex}`, Number(p.offset));
        return found;
      } catch (error) {
        if (error instanceof EdgebusError) throw error;
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
}
