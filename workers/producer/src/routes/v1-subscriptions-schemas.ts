/**
 * Request and response schemas of `/v1/subscriptions` (`v1-subscriptions.ts`). The filter is the
 * routing rules' event-pattern language (`#shared/routing/event-pattern.ts`); it is declared here
 * as an object and checked with that language's own schema, so the OpenAPI document stays finite.
 */
import { z } from "zod";
import { eventPatternSchema } from "#shared/routing/event-pattern.ts";
import { FIELD_PATH, MAX_FIELDS } from "../subscriptions/field-selection.ts";
import { DELIVERY_STATUSES, SUBSCRIPTION_STATUSES } from "../subscriptions/subscription-store.ts";

const MAX_FILTER_BYTES = 4096;

const filterSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    if (Object.keys(value).length === 0) {
      ctx.addIssue({ code: "custom", message: "must name at least one field (e.g. type); {} would match every event" });
      return;
    }
    if (JSON.stringify(value).length > MAX_FILTER_BYTES) {
      ctx.addIssue({ code: "custom", message: `must be at most ${MAX_FILTER_BYTES} bytes of JSON` });
      return;
    }
    const parsed = eventPatternSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    }
  })
  .describe(
    'Event pattern (EventBridge style): keys name event fields (`type`, `source`, `subject`, `data` with nested keys), leaves are arrays of matchers — a literal, `{"prefix"}`, `{"suffix"}`, `{"wildcard"}`, `{"anything-but"}`, `{"exists"}`, `{"numeric"}`',
  );

const fieldsSchema = z
  .array(z.string().regex(FIELD_PATH, "a dot path of names, e.g. data.application_id"))
  .min(1)
  .max(MAX_FIELDS)
  .nullable()
  .describe(
    "Only these event paths reach the subscriber, besides specversion, id, source, type and time (e.g. `data.application_id`); null or absent = the whole event",
  );

const rateLimitSchema = z
  .strictObject({ per_second: z.number().int().min(1).max(1000) })
  .nullable()
  .describe("At most this many deliveries per second to this URL; null = as fast as the target answers");

const urlSchema = z
  .string()
  .min(1)
  .max(2048)
  .describe("https:// URL that receives signed POSTs (http and private hosts only in development, when allowed)");
const descriptionSchema = z
  .string()
  .max(500)
  .refine((text) => !text.includes("\u0000"), "must not contain NUL");

export const subscriptionCreateSchema = z.strictObject({
  url: urlSchema,
  filter: filterSchema,
  description: descriptionSchema.default(""),
  fields: fieldsSchema.optional(),
  rate_limit: rateLimitSchema.optional(),
});

export const subscriptionUpdateSchema = z
  .strictObject({
    url: urlSchema.optional(),
    filter: filterSchema.optional(),
    description: descriptionSchema.optional(),
    fields: fieldsSchema.optional(),
    rate_limit: rateLimitSchema.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, "give at least one field to change");

export const subscriptionSchema = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  filter: z.record(z.string(), z.unknown()),
  fields: z.array(z.string()).nullable(),
  rate_limit: z.object({ per_second: z.number() }).nullable(),
  status: z.enum(SUBSCRIPTION_STATUSES),
  disabled_reason: z.string().nullable().describe("Why it was disabled: `gone` (410), `failing` (N days), …"),
  disabled_at: z.string().nullable(),
  failing_since: z.string().nullable().describe("Start of the current run of failed attempts; null while healthy"),
  owner_key_id: z.string(),
  previous_secret_expires_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const subscriptionWithSecretSchema = subscriptionSchema.extend({
  secret: z.string().describe("Signing secret (`whsec_…`): shown only in this answer"),
});

export const subscriptionPageSchema = z.object({
  subscriptions: z.array(subscriptionSchema),
  next_cursor: z.string().nullable(),
});

export const subscriptionListQuerySchema = z.strictObject({
  status: z.enum(SUBSCRIPTION_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^sub_[0-9a-f]{32}$/)
    .optional()
    .describe("`next_cursor` of the previous page"),
});

export const subscriptionIdParams = z.object({
  id: z
    .string()
    .regex(/^sub_[0-9a-f]{32}$/)
    .meta({ param: { description: "Subscription id" } }),
});

export const attemptSchema = z.object({
  attempted_at: z.string(),
  status_code: z.number().nullable(),
  latency_ms: z.number(),
  outcome: z.string().describe("`delivered`, `retry`, `failed`, `gone` or `refused` (target not allowed)"),
  response_snippet: z.string().nullable(),
  error: z.string().nullable(),
});

export const deliverySchema = z.object({
  seq: z.number(),
  message_id: z.string().describe("The `webhook-id` header, the same on every attempt"),
  event: z.object({ source: z.string(), id: z.string(), type: z.string() }),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.array(attemptSchema),
  attempt_count: z.number(),
  next_attempt_at: z.string().nullable(),
  last_status: z.number().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});

export const deliveryPageSchema = z.object({
  deliveries: z.array(deliverySchema),
  next_cursor: z.number().nullable(),
});

export const deliveryListQuerySchema = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.coerce.number().int().min(1).optional().describe("`next_cursor` of the previous page"),
});

export const deliveryRedriveSchema = z.strictObject({
  seqs: z
    .array(z.number().int().min(1))
    .min(1)
    .max(1000)
    .optional()
    .describe("Failed deliveries to send again; absent = every failed delivery of the subscription"),
});

export const redriveResultSchema = z.object({ redriven: z.number() });

export const testDeliverySchema = z.object({
  event_id: z.string(),
  type: z.string(),
  description: z.string(),
});
