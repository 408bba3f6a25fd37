import { z } from "zod";

/**
 * The CloudEvents extension attributes edgebus gives meaning to, validated in one place.
 * Binary mode carries every attribute as a header string, so numeric attributes accept a
 * decimal string and are normalised to a number.
 */

/** W3C Trace Context `traceparent`: version-traceid-parentid-flags, lowercase hex, not all zero. */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

const identifier = z.string().min(1, "must not be empty").max(256, "must be at most 256 characters");

export const eventVersionSchema = z.union([
  z.number().int("must be an integer").positive("must be a positive integer").max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, "must be a positive integer")
    .transform((value) => Number(value)),
]);

export const extensionsSchema = z.object({
  eventversion: eventVersionSchema.optional(),
  correlationid: identifier.optional(),
  causationid: identifier.optional(),
  partitionkey: identifier.optional(),
  traceparent: z.string().regex(TRACEPARENT, "must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)").optional(),
});

export type EdgebusExtensions = z.output<typeof extensionsSchema>;
