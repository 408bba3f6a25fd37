/**
 * Turns parsed CloudEvent attributes into the `CloudEventRecord` that travels through edgebus:
 * extensions validated, `type` looked up in the catalogue, `eventversion` required when the type
 * says consumers order by it (`requiresEventVersion`), `data` validated (and parsed, so
 * defaults/transforms of the schema apply), `partitionkey` and `subject` defaulted to the
 * catalogue's entity id, `time` defaulted, and the 128 KB queue limit enforced on the final JSON.
 */
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { extensionsSchema, plainExtensions } from "#shared/envelope/extensions.ts";
import { EdgebusError } from "#shared/errors.ts";
import type { EnvelopeMode } from "./http-binding.ts";
import { ENVELOPE_LIMITS, utf8Length } from "./limits.ts";
import { toValidationIssues } from "./validation-issues.ts";

/** What normalisation needs from the catalogue (`Catalogue` satisfies it; tests may pass another catalogue). */
export type CatalogueLookup = Pick<Catalogue, "require" | "validateData" | "entityIdOf">;

export interface NormaliseOptions {
  /** Clock for the default `time` (tests pin it). */
  now?: () => Date;
  /** How the client sent the event, so an issue names the field it wrote (`event_version` in the legacy envelope). */
  mode?: EnvelopeMode;
}

/** Where the client put the entity version, per envelope mode. */
function versionFieldOf(mode: EnvelopeMode | undefined): string {
  return mode === "legacy" ? "event_version" : "eventversion";
}

export function normaliseEvent(
  attributes: Record<string, unknown>,
  catalogue: CatalogueLookup,
  options: NormaliseOptions = {},
): CloudEventRecord {
  return normaliseEventWithJson(attributes, catalogue, options).event;
}

/** A normalised event and its `JSON.stringify`, the text its size was measured on. */
export interface NormalisedEvent {
  readonly event: CloudEventRecord;
  /** `JSON.stringify(event)`: the queue message's value (records are not changed after). */
  readonly json: string;
}

/** `normaliseEvent`, also handing back the JSON it measured, so nobody serialises the event again. */
export function normaliseEventWithJson(
  attributes: Record<string, unknown>,
  catalogue: CatalogueLookup,
  options: NormaliseOptions = {},
): NormalisedEvent {
  const given = {
    eventversion: attributes.eventversion,
    correlationid: attributes.correlationid,
    causationid: attributes.causationid,
    partitionkey: attributes.partitionkey,
    traceparent: attributes.traceparent,
  };
  const plain = plainExtensions(given);
  const extensions = plain === undefined ? extensionsSchema.safeParse(given) : { success: true as const, data: plain };
  if (!extensions.success) {
    throw new EdgebusError("invalid_envelope", "an extension attribute is invalid", {
      details: { issues: toValidationIssues(extensions.error.issues) },
    });
  }

  const type = String(attributes.type);
  // 422 unknown_event_type with the closest known types in details.did_you_mean.
  const definition = catalogue.require(type);
  const versionMissing = definition.requiresEventVersion === true && extensions.data.eventversion === undefined;
  const versionIssues = versionMissing
    ? [
        {
          path: versionFieldOf(options.mode),
          message: `required for ${type}: a positive integer, the entity's version, by which consumers order its events`,
        },
      ]
    : [];
  const validation = catalogue.validateData(type, attributes.data);
  if (!validation.ok || versionMissing) {
    const binaryHint = options.mode === "binary" ? " (header ce-eventversion)" : "";
    const message = validation.ok
      ? `${type} events need ${versionFieldOf(options.mode)}${binaryHint}, a positive integer: consumers order the entity's events by it`
      : `data does not match the schema of ${type}`;
    throw new EdgebusError("schema_validation_failed", message, {
      details: {
        type,
        version: definition.version,
        issues: [...versionIssues, ...(validation.ok ? [] : validation.issues)],
      },
    });
  }

  const record: CloudEventRecord = {
    ...attributes,
    specversion: "1.0",
    id: String(attributes.id),
    source: String(attributes.source),
    type,
    time: typeof attributes.time === "string" ? attributes.time : (options.now?.() ?? new Date()).toISOString(),
    datacontenttype: "application/json",
    data: validation.data,
  };
  for (const [name, value] of Object.entries(extensions.data)) {
    if (value === undefined) delete record[name];
    else record[name] = value;
  }
  // The entity id keys the Kafka record (one entity's events stay in one partition, in order)
  // and names the event's subject, unless the producer chose otherwise.
  const entityId = catalogue.entityIdOf(type, validation.data);
  if (entityId !== undefined) {
    if (record.partitionkey === undefined) record.partitionkey = entityId;
    if (record.subject === undefined) record.subject = entityId;
  }

  const json = JSON.stringify(record);
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only a long event needs counting.
  const size = json.length * 3 <= ENVELOPE_LIMITS.maxEventBytes ? json.length : utf8Length(json);
  if (size > ENVELOPE_LIMITS.maxEventBytes) {
    throw new EdgebusError(
      "payload_too_large",
      `the event is ${size} bytes; an event may be at most ${ENVELOPE_LIMITS.maxEventBytes} bytes`,
      { details: { limit: ENVELOPE_LIMITS.maxEventBytes, actual: size } },
    );
  }
  return { event: record, json };
}
