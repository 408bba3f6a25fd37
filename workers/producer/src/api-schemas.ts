/**
 * zod schemas of what the producer API returns. They type the handlers' responses and generate
 * the OpenAPI document, so the two cannot drift apart.
 */
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "#shared/errors.ts";
import { QUEUE_NAMES, type QueueName } from "#shared/names.ts";

export const receiptSchema = z.object({
  id: z.string().describe("CloudEvents id"),
  type: z.string().describe("CloudEvents type"),
  status: z
    .enum(["accepted", "duplicate"])
    .describe("`duplicate` when this source+id was seen in the last 24 h; the original receipt is returned"),
  kafka: z
    .object({ topic: z.string(), partition: z.number().int().nullable(), offset: z.number().int().nullable() })
    .nullable()
    .describe("Where Kafka stored the event; null when Kafka is not configured"),
  queues: z.array(z.enum(QUEUE_NAMES as [QueueName, ...QueueName[]])).describe("Cloudflare Queues the event went to"),
  received_as: z
    .string()
    .optional()
    .describe(
      "The form the event's data came in when it was not the catalogue's current shape (e.g. `seed-v1`, the government design's own events); it was upcast to the current shape. Absent for current-shape events",
    ),
});

export type Receipt = z.infer<typeof receiptSchema>;

export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.unknown().optional(),
    request_id: z.string(),
  }),
});

export const batchItemResultSchema = z.union([
  z.object({ index: z.number().int(), status: z.literal(202), receipt: receiptSchema }),
  z.object({ index: z.number().int(), status: z.number().int().min(400), error: errorBodySchema.shape.error }),
]);

export type BatchItemResult = z.infer<typeof batchItemResultSchema>;

export const batchResponseSchema = z.object({
  results: z.array(batchItemResultSchema).describe("One result per submitted event, in request order"),
  accepted: z.number().int(),
  duplicate: z.number().int(),
  rejected: z.number().int(),
});

export const schemaSummarySchema = z.object({
  type: z.string(),
  version: z.number().int(),
  description: z.string(),
  topic: z.string(),
  entity_id_field: z.string().nullable(),
  requires_eventversion: z
    .boolean()
    .describe("Events of this type must carry eventversion (consumers order the entity's events by it)"),
  href: z.string(),
});

export const schemaListSchema = z.object({ schemas: z.array(schemaSummarySchema) });

export const healthSchema = z.object({
  status: z.literal("ok"),
  environment: z.string(),
  dedup: z.enum(["redis", "memory"]),
  rate_limit: z.enum(["redis", "memory"]),
  kafka: z.boolean(),
});
