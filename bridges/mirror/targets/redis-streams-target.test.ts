/**
 * The Redis Streams target writes a batch with one script call: what separate calls per event
 * guaranteed still holds per event (one failing event fails alone; an event seen before, even
 * earlier in the same batch, is not added again), in input order.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { serviceUrls } from "../../../scripts/service-probe.ts";
import { requireService } from "../../../test/support/services.ts";
import { TopicMapping } from "../topic-mapping.ts";
import { RedisStreamsTarget } from "./redis-streams-target.ts";

const available = await requireService("redis", "mirror Redis Streams target (batched script)");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const prefix = `edgebus-rst-${run}:`;

function event(id: string): CloudEventRecord {
  return {
    specversion: "1.0",
    id,
    source: "/gov/auth",
    type: "gov.auth.citizen.updated",
    time: "2026-11-22T08:00:00Z",
    datacontenttype: "application/json",
    data: { citizenId: id },
  };
}

describe.runIf(available)("RedisStreamsTarget: one script call per batch", () => {
  let redis: Redis;
  let target: RedisStreamsTarget;

  beforeAll(() => {
    redis = new Redis(serviceUrls.redis);
    target = new RedisStreamsTarget({
      url: serviceUrls.redis,
      keyPrefix: prefix,
      markerPrefix: `${prefix}seen:`,
      maxLen: 1000,
      dedupeTtlSeconds: 60,
      maxMessageBytes: 1_048_576,
      timeoutMs: 3000,
      mapping: new TopicMapping(),
      mode: "binary",
    });
  });
  afterAll(async () => {
    await target?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("adds each event once in order, an event repeated in the batch or seen before as a duplicate", async () => {
    const first = await target.deliver([
      { event: event("a"), topic: "gov.auth.citizen" },
      { event: event("b"), topic: "gov.auth.citizen" },
      { event: event("a"), topic: "gov.auth.citizen" },
    ]);
    expect(first.map((o) => o.ok && o.duplicate)).toEqual([false, false, true]);
    const again = await target.deliver([
      { event: event("b"), topic: "gov.auth.citizen" },
      { event: event("c"), topic: "gov.auth.citizen" },
    ]);
    expect(again.map((o) => o.ok && o.duplicate)).toEqual([true, false]);
    const entries = await redis.xrange(`${prefix}gov.auth.citizen`, "-", "+");
    const ids = entries.map(([, fields]) => fields[fields.indexOf("id") + 1]);
    expect(ids).toEqual(["a", "b", "c"]);
    // A duplicate's receipt names the entry first added.
    const [, , repeat] = first;
    expect(repeat?.ok && repeat.receipt?.offset).toBe(entries[0]?.[0]);
  });

  it("one event whose stream key holds another type fails alone (retryable); the others are added", async () => {
    await redis.set(`${prefix}gov.auth.broken`, "not a stream");
    const outcomes = await target.deliver([
      { event: event("d"), topic: "gov.auth.citizen" },
      { event: event("e"), topic: "gov.auth.broken" },
      { event: event("f"), topic: "gov.auth.citizen" },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    const failed = outcomes[1];
    expect(failed?.ok === false && failed.error).toMatchObject({ retryable: true, message: /WRONGTYPE/ });
    // The failed event left no marker: delivered again once the key is fixed, it is added.
    await redis.del(`${prefix}gov.auth.broken`);
    const retried = await target.deliver([{ event: event("e"), topic: "gov.auth.broken" }]);
    expect(retried[0]).toMatchObject({ ok: true, duplicate: false });
  });
});
