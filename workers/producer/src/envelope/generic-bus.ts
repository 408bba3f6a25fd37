/**
 * The generic event bus envelope (the commerce and learning catalogues' services), and its
 * mapping to CloudEvents 1.0, accepted beside the legacy envelope:
 *
 * | bus field                              | CloudEvents attribute                                  |
 * |----------------------------------------|--------------------------------------------------------|
 * | `eventId`                              | `id`                                                   |
 * | `eventType`                            | `type` (a short name is the key's catalogue's alias)   |
 * | `timestamp`                            | `time` (RFC 3339)                                      |
 * | `source`, else `metadata.source`       | `source` (neither: the publishing key's only source)   |
 * | `version` (`"1.0"`)                    | `schemaversion` extension (the sender's label, kept)   |
 * | `metadata.correlationId`               | `correlationid`                                        |
 * | `metadata.causationId`                 | `causationid`                                          |
 * | `metadata.traceId`                     | `traceid` extension (not a W3C `traceparent`)          |
 * | `data`                                 | `data` (`datacontenttype: application/json`)           |
 *
 * The learning hub puts `source` under `metadata`; the generic bus at the top. Both at once must
 * agree. Unknown fields are refused like everywhere else.
 */
import { z } from "zod";

const nonEmpty = z.string().min(1, "must not be empty");

export const busEnvelopeSchema = z
  .strictObject({
    eventId: nonEmpty,
    eventType: nonEmpty,
    timestamp: z.iso.datetime({ offset: true, message: "must be an RFC 3339 date-time" }).optional(),
    source: nonEmpty.optional(),
    version: z
      .string()
      .regex(/^\d{1,4}(\.\d{1,4}){0,2}$/, "must be a version like 1.0")
      .optional(),
    data: z.unknown(),
    metadata: z
      .strictObject({
        correlationId: nonEmpty.optional(),
        causationId: nonEmpty.optional(),
        source: nonEmpty.optional(),
        traceId: nonEmpty.max(128).optional(),
      })
      .optional(),
  })
  .superRefine((envelope, ctx) => {
    const inner = envelope.metadata?.source;
    if (envelope.source !== undefined && inner !== undefined && inner !== envelope.source) {
      ctx.addIssue({ code: "custom", path: ["metadata", "source"], message: "differs from source" });
    }
  });

export type BusEnvelope = z.output<typeof busEnvelopeSchema>;

/** A JSON body is the bus envelope when it carries `eventId` and `eventType` (and is not a CloudEvent). */
export function looksLikeBusEnvelope(body: unknown): boolean {
  return (
    typeof body === "object" &&
    body !== null &&
    !Array.isArray(body) &&
    "eventId" in body &&
    "eventType" in body &&
    !("specversion" in body)
  );
}

/** Bus envelope (validated) → CloudEvent attributes; `source` is left out when neither place has it. */
export function fromBusEnvelope(envelope: BusEnvelope): Record<string, unknown> {
  const event: Record<string, unknown> = {
    specversion: "1.0",
    id: envelope.eventId,
    type: envelope.eventType,
    datacontenttype: "application/json",
    data: envelope.data,
  };
  const source = envelope.source ?? envelope.metadata?.source;
  if (source !== undefined) event.source = source;
  if (envelope.timestamp !== undefined) event.time = envelope.timestamp;
  if (envelope.version !== undefined) event.schemaversion = envelope.version;
  const metadata = envelope.metadata ?? {};
  if (metadata.correlationId !== undefined) event.correlationid = metadata.correlationId;
  if (metadata.causationId !== undefined) event.causationid = metadata.causationId;
  if (metadata.traceId !== undefined) event.traceid = metadata.traceId;
  return event;
}
