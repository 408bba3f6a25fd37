/**
 * The legacy envelope of existing government services, and its mapping to CloudEvents 1.0.
 *
 * | legacy field                 | CloudEvents attribute                                  |
 * |------------------------------|--------------------------------------------------------|
 * | `event_id`                   | `id`                                                   |
 * | `event_type`                 | `type`                                                 |
 * | `event_version`              | `eventversion` (entity version, positive integer)      |
 * | `timestamp`                  | `time` (RFC 3339; epoch milliseconds are converted)    |
 * | `correlation_id`             | `correlationid`                                        |
 * | `causation_id` (optional)    | `causationid`                                          |
 * | `source` (string)            | `source`                                               |
 * | `source.service`             | `source`                                               |
 * | no `source`                  | the publishing key's only source (`parseSingleEvent`'s `missingSource`) |
 * | `source.instance`            | `sourceinstance` extension                             |
 * | `source.version`             | `sourceversion` extension                              |
 * | `data`                       | `data` (`datacontenttype: application/json`)           |
 *
 * The service alone becomes `source` so that a retry from another instance of the same service
 * is still recognised as a duplicate (`source` + `id` is the duplicate key); instance and
 * version travel as extensions and come back on the way out (`toLegacyEnvelope`).
 *
 * Events in the government design's own form use this envelope too, with a short `event_type`
 * and a service name without a leading `/`: the catalogue's aliases and its `seed-v1` upcasters
 * take them from there (`upcast.ts`, docs/seed-events.md).
 */
import { z } from "zod";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { eventVersionSchema } from "#shared/envelope/extensions.ts";

const nonEmpty = z.string().min(1, "must not be empty");

const legacySourceSchema = z.union([
  nonEmpty,
  z.strictObject({ service: nonEmpty, instance: nonEmpty.optional(), version: nonEmpty.optional() }),
]);

/** 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write. */
const LATEST_RFC3339_MS = 253_402_300_799_999;

const legacyTimestampSchema = z.union([
  z.iso.datetime({ offset: true, message: "must be an RFC 3339 date-time" }),
  z
    .number()
    .int()
    .positive()
    // Beyond year 9999 there is no RFC 3339 form (and past ±8.64e15 ms no Date at all:
    // toISOString would throw), so such a value is bad input, not a server error.
    .max(LATEST_RFC3339_MS, "must be epoch milliseconds before the year 10000")
    .transform((ms) => new Date(ms).toISOString()),
]);

export const legacyEnvelopeSchema = z.strictObject({
  event_id: nonEmpty,
  event_type: nonEmpty,
  event_version: eventVersionSchema.optional(),
  timestamp: legacyTimestampSchema.optional(),
  correlation_id: nonEmpty.optional(),
  causation_id: nonEmpty.optional(),
  /** Optional: without it, the publishing key's only allowed source (a key with several gets a 422). */
  source: legacySourceSchema.optional(),
  data: z.unknown(),
});

export type LegacyEnvelopeInput = z.input<typeof legacyEnvelopeSchema>;
export type LegacyEnvelope = z.output<typeof legacyEnvelopeSchema>;

/** A JSON body is treated as a legacy envelope when it carries the legacy identity fields. */
export function looksLikeLegacyEnvelope(body: unknown): boolean {
  return (
    typeof body === "object" && body !== null && !Array.isArray(body) && "event_type" in body && "event_id" in body
  );
}

/**
 * Legacy envelope (already validated) → CloudEvent attributes. `time` is left out when the
 * legacy event had no timestamp; normalisation defaults it. `source` is left out when the legacy
 * event had none (the caller supplies it).
 */
export function fromLegacyEnvelope(legacy: LegacyEnvelope): Record<string, unknown> {
  const event: Record<string, unknown> = {
    specversion: "1.0",
    id: legacy.event_id,
    type: legacy.event_type,
    datacontenttype: "application/json",
    data: legacy.data,
  };
  if (legacy.source !== undefined) {
    event.source = typeof legacy.source === "string" ? legacy.source : legacy.source.service;
  }
  if (legacy.timestamp !== undefined) event.time = legacy.timestamp;
  if (legacy.event_version !== undefined) event.eventversion = legacy.event_version;
  if (legacy.correlation_id !== undefined) event.correlationid = legacy.correlation_id;
  if (legacy.causation_id !== undefined) event.causationid = legacy.causation_id;
  if (typeof legacy.source === "object") {
    if (legacy.source.instance !== undefined) event.sourceinstance = legacy.source.instance;
    if (legacy.source.version !== undefined) event.sourceversion = legacy.source.version;
  }
  return event;
}

/** CloudEvent → legacy envelope, for consumers and services that still speak the old format. */
export function toLegacyEnvelope(event: CloudEventRecord): LegacyEnvelopeInput {
  const instance = typeof event.sourceinstance === "string" ? event.sourceinstance : undefined;
  const version = typeof event.sourceversion === "string" ? event.sourceversion : undefined;
  const legacy: LegacyEnvelopeInput = {
    event_id: event.id,
    event_type: event.type,
    timestamp: event.time,
    source:
      instance === undefined && version === undefined
        ? event.source
        : {
            service: event.source,
            ...(instance === undefined ? {} : { instance }),
            ...(version === undefined ? {} : { version }),
          },
    data: event.data,
  };
  if (event.eventversion !== undefined) legacy.event_version = event.eventversion;
  if (event.correlationid !== undefined) legacy.correlation_id = event.correlationid;
  if (event.causationid !== undefined) legacy.causation_id = event.causationid;
  return legacy;
}
