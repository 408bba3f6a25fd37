import { z } from "zod";
import { extensionsSchema } from "#shared/envelope/extensions.ts";

/**
 * A structured-mode CloudEvent as a producer sends it, for documentation (OpenAPI, docs page).
 * The HTTP binding enforces the same rules (`http-binding.ts`, `extensions.ts`); this schema
 * composes the extension schema so the documented constraints cannot drift from the enforced ones.
 */
export const cloudEventInputSchema = z
  .object({
    specversion: z.literal("1.0"),
    id: z.string().min(1).max(256).describe("Unique per source; source + id is the duplicate key"),
    source: z.string().min(1).max(1024).describe("URI-reference of the producing service"),
    type: z.string().min(1).max(256).describe("gov.<domain>.<entity>.<action>"),
    time: z.iso.datetime({ offset: true }).optional().describe("Defaults to the time the producer received it"),
    datacontenttype: z.literal("application/json").optional(),
    dataschema: z.string().optional(),
    subject: z.string().optional(),
    data: z.unknown().describe("Validated against the type's schema (GET /v1/schemas/{type})"),
  })
  .extend(extensionsSchema.shape)
  .describe(
    "CloudEvents 1.0, structured mode; extensions eventversion, correlationid, causationid, partitionkey, traceparent",
  );
