import type { Hono } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import type { ConsumedRecord } from "../../kafka/record.ts";
import { SCOPE } from "../basic-auth.ts";
import type { GatewayContext, GatewayEnv } from "../gateway-context.ts";
import { readJson } from "../read-json.ts";
import { badRequest } from "../upstash-errors.ts";
import { fetchRequest } from "../wire.ts";

/** Kafka answers at least one record batch per partition even past `maxBytes`; below this per partition it only costs round trips. */
const MIN_PARTITION_FETCH_BYTES = 64 * 1024;

/**
 * `[GET|POST] /fetch`: no consumer group; results concatenated in request order. At most
 * `maxPartitionsPerRequest` partitions; the answer holds at most `maxResponseBytes` of records
 * (each partition asks Kafka for its share, and what arrives beyond is cut from the end, so every
 * partition's records stay a prefix from its requested offset; the first record always stays).
 */
export function registerFetch(app: Hono<GatewayEnv>, ctx: GatewayContext): void {
  const { limits } = ctx;
  // The docs allow GET with the same body.
  app.on(["GET", "POST"], "/fetch", async (c) => {
    const body = await readJson(c, fetchRequest, { maxBytes: limits.maxBodyBytes, budget: ctx.bodyBudget });
    if (!body) throw badRequest("request body is required");
    const triples = [
      ...(body.topic !== undefined
        ? [{ topic: body.topic, partition: body.partition ?? 0, offset: body.offset ?? 0 }]
        : []),
      ...(body.topicPartitionOffsets ?? []),
    ];
    if (triples.length > limits.maxPartitionsPerRequest) {
      throw new EdgebusError("payload_too_large", `at most ${limits.maxPartitionsPerRequest} partitions per fetch`);
    }
    c.get(SCOPE).requireFetch(triples.map((t) => t.topic));
    const timeoutMs = Math.min(body.timeout ?? 1000, limits.maxWaitMs);
    const share = Math.max(
      MIN_PARTITION_FETCH_BYTES,
      Math.min(limits.maxFetchBytes, Math.floor(limits.maxResponseBytes / Math.max(1, triples.length))),
    );
    const results = await Promise.all(triples.map((t) => ctx.reader.read({ ...t, timeoutMs, maxBytes: share })));
    return c.json(withinBytes(results.flat(), limits.maxResponseBytes));
  });
}

/** Bytes a record takes in an answer (key, value and headers; JSON framing aside). */
export function recordBytes(record: ConsumedRecord): number {
  let bytes =
    Buffer.byteLength(record.key) +
    (typeof record.value === "string" ? Buffer.byteLength(record.value) : record.value.byteLength);
  for (const header of record.headers) bytes += Buffer.byteLength(header.key) + Buffer.byteLength(header.value);
  return bytes;
}

/** The longest prefix of `records` within `maxBytes` (at least one record). */
function withinBytes(records: ConsumedRecord[], maxBytes: number): ConsumedRecord[] {
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    total += recordBytes(records[i] as ConsumedRecord);
    if (total > maxBytes && i > 0) return records.slice(0, i);
  }
  return records;
}
