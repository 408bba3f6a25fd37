import { z } from "zod";

/**
 * Request bodies of the Upstash Kafka REST protocol as `@upstash/kafka` 1.3.5 sends them
 * (see docs/protocols.md, "Upstash Kafka REST"). Strict about types, lenient about
 * unknown fields (the hosted service ignored them too).
 */

const topicName = z.string().min(1).max(249);
const partition = z.number().int().min(0).max(1_000_000);
const offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const produceMessage = z.object({
  topic: topicName,
  value: z.string(),
  key: z.string().optional(),
  partition: partition.optional(),
  timestamp: z.number().int().min(0).optional(),
  headers: z.array(z.object({ key: z.string().min(1), value: z.string() })).optional(),
});
export type ProduceMessage = z.infer<typeof produceMessage>;

/** `POST /produce/{topic}`: the same without `topic`. */
export const topicProduceMessage = produceMessage.omit({ topic: true });

/**
 * The messages of a produce body (one object or an array) when every one matches `produceMessage`
 * (or `topicProduceMessage` with `withTopic` false) exactly; `undefined` otherwise, and the caller
 * then lets the schema say what is wrong. The same rules as the schemas, checked by hand: a
 * produce call carries up to a thousand messages, and the schema's parse of each (a copy of every
 * message and its headers) was a tenth of the gateway's own CPU per call. Unknown fields stay on
 * the objects; the produce route reads only the known ones.
 */
export function produceMessagesFast(body: unknown, withTopic: boolean): ProduceMessage[] | undefined {
  const list = Array.isArray(body) ? body : [body];
  for (const message of list) if (!isProduceMessage(message, withTopic)) return undefined;
  return list as ProduceMessage[];
}

function isProduceMessage(candidate: unknown, withTopic: boolean): boolean {
  if (typeof candidate !== "object" || candidate === null || Array.isArray(candidate)) return false;
  const m = candidate as Record<string, unknown>;
  if (withTopic && !(typeof m.topic === "string" && m.topic.length >= 1 && m.topic.length <= 249)) return false;
  if (typeof m.value !== "string") return false;
  if (m.key !== undefined && typeof m.key !== "string") return false;
  if (m.partition !== undefined && !isIntegerIn(m.partition, 0, 1_000_000)) return false;
  if (m.timestamp !== undefined && !isIntegerIn(m.timestamp, 0, Number.MAX_SAFE_INTEGER)) return false;
  if (m.headers !== undefined) {
    if (!Array.isArray(m.headers)) return false;
    for (const h of m.headers) {
      if (typeof h !== "object" || h === null || Array.isArray(h)) return false;
      const header = h as Record<string, unknown>;
      if (!(typeof header.key === "string" && header.key !== "" && typeof header.value === "string")) return false;
    }
  }
  return true;
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
}

export const topicPartition = z.object({ topic: topicName, partition });
export const topicPartitionOffset = topicPartition.extend({ offset });
export type TopicPartition = z.infer<typeof topicPartition>;

/** A single object or an array of them (the docs allow both for `/committed` and `/offsets`). */
export function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([item.transform((one) => [one] as z.infer<T>[]), z.array(item)]);
}

export const fetchRequest = z
  .object({
    topic: topicName.optional(),
    partition: partition.optional(),
    offset: offset.optional(),
    topicPartitionOffsets: z.array(topicPartitionOffset).optional(),
    timeout: z.number().int().min(0).optional(),
  })
  .superRefine((value, ctx) => {
    const single = [value.topic, value.partition, value.offset].filter((v) => v !== undefined).length;
    if (single !== 0 && single !== 3) {
      ctx.addIssue({ code: "custom", message: "topic, partition and offset go together" });
    }
    if (single === 0 && (value.topicPartitionOffsets ?? []).length === 0) {
      ctx.addIssue({
        code: "custom",
        message: "nothing to fetch: give topic/partition/offset or topicPartitionOffsets",
      });
    }
  });

export const consumeRequest = z
  .object({
    topic: topicName.optional(),
    topics: z.array(topicName).min(1).optional(),
    timeout: z.number().int().min(0).optional(),
  })
  .refine((v) => v.topic !== undefined || v.topics !== undefined, { message: "give topic or topics" });

export const consumerHeaders = z.object({
  autoCommit: z.enum(["true", "false"]).optional(),
  autoCommitIntervalMs: z.coerce.number().int().min(100).max(3_600_000).optional(),
  offsetReset: z.enum(["earliest", "latest", "none"]).optional(),
  sessionTimeoutMs: z.coerce.number().int().min(6_000).max(300_000).optional(),
});

/** Path segments the client puts in raw: group and instance ids. */
export const consumerId = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._\-:]+$/, "letters, digits and . _ - : only");
