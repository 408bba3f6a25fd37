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

const EXTENSION_NAMES = ["eventversion", "correlationid", "causationid", "partitionkey", "traceparent"] as const;

function plainIdentifier(value: unknown): boolean {
  return value === undefined || (typeof value === "string" && value.length >= 1 && value.length <= 256);
}

/**
 * `extensionsSchema.safeParse(input).data` for the usual case, without zod (whose interpreter
 * is slow where it cannot compile its parsers, as in Workers): when every value is absent or
 * already in its final form (`eventversion` a number), the same object zod would return; else
 * `undefined`, and zod decides (a decimal-string `eventversion`, every refusal and its words).
 */
export function plainExtensions(input: Readonly<Record<string, unknown>>): EdgebusExtensions | undefined {
  const { eventversion, correlationid, causationid, partitionkey, traceparent } = input;
  if (eventversion !== undefined && !(Number.isSafeInteger(eventversion) && (eventversion as number) > 0)) {
    return undefined;
  }
  if (!plainIdentifier(correlationid) || !plainIdentifier(causationid) || !plainIdentifier(partitionkey)) {
    return undefined;
  }
  if (traceparent !== undefined && (typeof traceparent !== "string" || !TRACEPARENT.test(traceparent))) {
    return undefined;
  }
  // zod's object output: the shape's keys in its order, those present in the input.
  const out: Record<string, unknown> = {};
  for (const name of EXTENSION_NAMES) if (name in input) out[name] = input[name];
  return out as EdgebusExtensions;
}

/**
 * Extension attributes edgebus itself sets and no caller may send: every attribute whose name
 * starts with `edgebus` is reserved. The producer refuses them on input (400, every envelope mode)
 * and stamps these two from the API key that published the event, so a consumer can trust them:
 *
 * - `edgebuskeyid`: the id of the publishing API key (`EDGEBUS_API_KEYS[].id`);
 * - `edgebusdirectcontact`: whether that key holds the `notify:direct-contact` scope — only then
 *   does the notifier send to contact details carried in the event (otherwise it uses the
 *   citizen directory, `citizen_refs`).
 *
 * Names follow the CloudEvents rules: lowercase letters and digits, at most 20 characters.
 */
export const RESERVED_EXTENSION_PREFIX = "edgebus";
export const PUBLISHER_KEY_ATTRIBUTE = "edgebuskeyid";
export const DIRECT_CONTACT_ATTRIBUTE = "edgebusdirectcontact";

export function isReservedAttribute(name: string): boolean {
  return name.toLowerCase().startsWith(RESERVED_EXTENSION_PREFIX);
}

/** The stamp, as documented (OpenAPI, JSON Schema): read-only, never sent by a client. */
export const reservedExtensionsSchema = z.object({
  [PUBLISHER_KEY_ATTRIBUTE]: z
    .string()
    .meta({ readOnly: true, description: "Set by edgebus: the id of the API key that published the event" })
    .optional(),
  [DIRECT_CONTACT_ATTRIBUTE]: z
    .boolean()
    .meta({
      readOnly: true,
      description:
        "Set by edgebus: whether the publishing key holds the notify:direct-contact scope (contacts in the event may be used)",
    })
    .optional(),
});
