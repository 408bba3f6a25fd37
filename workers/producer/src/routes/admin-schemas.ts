/**
 * zod schemas of the admin API (dead letters, replay): they validate requests (strict: an
 * unknown field is a 400 naming it, so a typo in a filter never widens a redrive) and generate
 * the admin part of the OpenAPI document.
 */
import { z } from "zod";
import { QUEUE_NAMES, type QueueName } from "#shared/names.ts";
import { DEAD_LETTER_STATUSES } from "../db/dead-letter-admin-store.ts";

const timestamp = z.iso.datetime({ offset: true });
/** Type globs: `*` matches any run of characters (`gov.auth.citizen.*`, `*`). */
const typePattern = z
  .string()
  .regex(/^[A-Za-z0-9.*_-]{1,200}$/, "a type or a pattern with * (letters, digits, '.', '-', '_', '*')");
const queueName = z.enum(QUEUE_NAMES as [QueueName, ...QueueName[]]);
const ratePerSecond = z.coerce
  .number()
  .int()
  .positive()
  .describe("Messages per second; default and maximum: the REPLAY_RATE_PER_SECOND setting");

function windowInOrder(value: { from?: string | undefined; to?: string | undefined }): boolean {
  return value.from === undefined || value.to === undefined || Date.parse(value.from) < Date.parse(value.to);
}
/**
 * Free text that reaches Postgres as a parameter: Postgres `text` cannot hold U+0000, so a NUL
 * is refused here (400 naming the field) instead of failing in the database.
 */
function postgresText(max: number, options: { trim?: boolean; emptyMessage?: string } = {}) {
  return (options.trim ? z.string().trim() : z.string())
    .min(1, options.emptyMessage)
    .max(max)
    .refine((value) => !value.includes("\u0000"), "must not contain NUL (U+0000): Postgres text cannot hold it");
}

const windowMessage = { message: "`from` must be before `to`", path: ["to"] };

const filterFields = {
  queue: queueName.optional().describe("Queue the message failed on"),
  consumer: postgresText(200).optional().describe("Consumer that gave up, e.g. `notifier`"),
  type: typePattern.optional().describe("Event type or pattern, e.g. `gov.permits.*`"),
  error_type: postgresText(200).optional().describe("Class of the failure's cause, e.g. `PostgresError`"),
  error_code: postgresText(64).optional().describe("edgebus error code, e.g. `bad_request`"),
  from: timestamp.optional().describe("Last failure at or after (ISO 8601)"),
  to: timestamp.optional().describe("Last failure before (ISO 8601)"),
};

export const deadLetterListQuerySchema = z
  .strictObject({
    ...filterFields,
    status: z
      .enum([...DEAD_LETTER_STATUSES, "any"])
      .default("pending")
      .describe("Default `pending`"),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: postgresText(500).optional().describe("`next_cursor` of the previous page"),
  })
  .refine(windowInOrder, windowMessage);

export const deadLetterRedriveSchema = z
  .strictObject({
    ...filterFields,
    rate_per_second: ratePerSecond.optional(),
    all: z
      .boolean()
      .default(false)
      .describe("Required (true) to redrive without any filter, i.e. every pending dead letter"),
    dry_run: z.boolean().default(false).describe("Count and sample the matching entries; send nothing"),
  })
  .refine(windowInOrder, windowMessage);

/** The filter fields of a redrive request (everything that narrows the selection). */
export const REDRIVE_FILTER_FIELDS = Object.keys(filterFields);

export const discardSchema = z.strictObject({
  reason: postgresText(1000, { trim: true, emptyMessage: "say why the entry is discarded" }),
});

export const archiveReplaySchema = z
  .strictObject({
    type: typePattern.describe("Event type or pattern, e.g. `gov.auth.citizen.*`"),
    from: timestamp.describe("Events with `time` at or after (ISO 8601)"),
    to: timestamp.optional().describe("Events with `time` before (ISO 8601); default now"),
    queue: queueName.describe("Queue to replay into (its consumer receives the events)"),
    rate_per_second: ratePerSecond.optional(),
    rebuild: z
      .boolean()
      .default(false)
      .describe(
        "Empty the read model fed by `queue` and its consumer's processed_events first (citizen-sync queues only)",
      ),
    dry_run: z.boolean().default(false).describe("Count and sample the matching events; send nothing"),
  })
  .refine(windowInOrder, windowMessage);

const deadLetterSchema = z.object({
  id: z.number().int(),
  queue: z.string(),
  consumer: z.string(),
  status: z.enum(DEAD_LETTER_STATUSES),
  event: z.object({ source: z.string(), id: z.string(), type: z.string().nullable() }),
  message_id: z.string().nullable(),
  error: z.object({
    code: z.string().nullable(),
    type: z.string().nullable(),
    message: z.string().nullable(),
    reason: z.enum(["permanent", "exhausted", "platform"]),
    details: z.unknown(),
  }),
  attempts: z.number().int().describe("Deliveries made before it was dead-lettered (summed over failures)"),
  failure_count: z.number().int(),
  first_failed_at: z.string(),
  last_failed_at: z.string(),
  replayed_at: z.string().nullable(),
  replayed_by: z.string().nullable(),
  replay_count: z.number().int(),
  discarded_at: z.string().nullable(),
  discarded_by: z.string().nullable(),
  discarded_reason: z.string().nullable(),
});

export const deadLetterResponseSchema = deadLetterSchema;
export const deadLetterDetailSchema = deadLetterSchema.extend({
  body: z.unknown().describe("The original queue message body (the CloudEvent)"),
});
export const deadLetterPageSchema = z.object({
  dead_letters: z.array(deadLetterSchema),
  next_cursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page"),
});

export const replayJobSchema = z.object({
  id: z.string(),
  kind: z.enum(["archive", "dead-letters"]),
  status: z.enum(["running", "completed", "failed", "cancelled"]),
  queue: z.string().nullable().describe("Target queue (archive replay); null for a redrive"),
  filter: z.record(z.string(), z.unknown()),
  rebuild: z.boolean(),
  rate_per_second: z.number().int(),
  requested_by: z.string(),
  total: z.number().int(),
  sent: z.number().int(),
  remaining: z.number().int(),
  progress: z.number(),
  eta_seconds: z.number().int(),
  failures: z.number().int(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().nullable(),
});

export const redriveResponseSchema = z.object({
  job: replayJobSchema,
  by_queue: z.record(z.string(), z.number().int()),
});
export const redriveDryRunSchema = z.object({
  dry_run: z.literal(true),
  matched: z.number().int(),
  by_queue: z.record(z.string(), z.number().int()),
  sample: z.array(deadLetterSchema),
});
export const archiveReplayResponseSchema = z.object({
  job: replayJobSchema,
  reset: z
    .object({ rows: z.number().int(), ledger_rows: z.number().int() })
    .optional()
    .describe("Rebuild only: rows deleted from the read model and from its consumer's processed_events"),
});
export const archiveReplayDryRunSchema = z.object({
  dry_run: z.literal(true),
  matched: z.number().int(),
  sample: z.array(z.object({ source: z.string(), id: z.string(), type: z.string(), time: z.string() })),
});
