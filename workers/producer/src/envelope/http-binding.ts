/**
 * CloudEvents 1.0 HTTP protocol binding for the producer: structured mode
 * (`application/cloudevents+json`), binary mode (`ce-*` headers, percent-decoded, JSON body),
 * the legacy envelope (plain `application/json` without `ce-*` headers) and batch mode
 * (`application/cloudevents-batch+json`). A body or batch item without `specversion` that carries
 * `event_id` and `event_type` is the legacy envelope whatever the content type: services built to
 * the government design send their events as they are, singly or in a batch.
 *
 * The attributes are checked against CloudEvents 1.0 with one zod schema (`coreAttributesSchema`):
 * required `specversion` "1.0", `id`, `source` (a URI-reference), `type`; `time` RFC 3339,
 * `dataschema` an absolute URI, `subject` non-empty, JSON data only, extension names of lower-case
 * letters and digits with string, integer or boolean values. Then `time` is written as UTC with
 * milliseconds (`new Date(time).toISOString()`, "now" when absent) and a binary-mode event gets
 * `datacontenttype: application/json`. (This is what the `cloudevents` SDK's `HTTP.toEvent` did
 * here before; doing it directly avoids the SDK parsing every event a second time and building an
 * error object per event, which cost a fifth of the producer's CPU in a batch.)
 *
 * Output: CloudEvent attributes as a plain JSON object (`data` included), not yet checked
 * against the catalogue — that is `normaliseEvent`'s job.
 */
import { z } from "zod";
import { compileFastParse, REJECTED } from "#shared/catalogue/fast-parse.ts";
import type { SourceGivenAs } from "#shared/catalogue/upcaster.ts";
import { EdgebusError } from "#shared/errors.ts";
import { busEnvelopeSchema, fromBusEnvelope, looksLikeBusEnvelope } from "./generic-bus.ts";
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from "./json-depth.ts";
import { fromLegacyEnvelope, legacyEnvelopeSchema, looksLikeLegacyEnvelope } from "./legacy.ts";
import { ENVELOPE_LIMITS } from "./limits.ts";
import { findUnstorableText, jsonTextMayHoldUnstorable } from "./storable-text.ts";
import { toValidationIssues, type ValidationIssue } from "./validation-issues.ts";

export type EnvelopeMode = "structured" | "binary" | "legacy" | "bus";

export interface IncomingEvent {
  mode: EnvelopeMode;
  /** CloudEvent attributes (context + extensions) and `data`, as JSON. */
  attributes: Record<string, unknown>;
  /**
   * How `source` was given, when not as a source attribute: the legacy envelope's
   * `source.service` (a service name), or none at all (`missingSource` supplied it).
   */
  sourceGivenAs?: Exclude<SourceGivenAs, "attribute">;
}

export interface ParseOptions {
  /**
   * The source of a legacy envelope that has none: the publishing key's only allowed source. It
   * throws (422 naming `source`) when the key allows several; without it such an envelope is a 400.
   */
  missingSource?: () => string;
}

export const MEDIA_TYPES = {
  structured: "application/cloudevents+json",
  batch: "application/cloudevents-batch+json",
  json: "application/json",
} as const;

/** `application/json; charset=utf-8` → `application/json`; other charsets are refused. */
export function mediaTypeOf(contentType: string | null): string | undefined {
  if (contentType === null || contentType.trim() === "") return undefined;
  const [type = "", ...params] = contentType.split(";");
  for (const param of params) {
    const [name, value] = param.split("=").map((part) => part.trim().toLowerCase());
    if (name === "charset" && value !== "utf-8" && value !== '"utf-8"') {
      throw new EdgebusError("unsupported_media_type", `charset ${value} is not supported; send UTF-8`);
    }
  }
  return type.trim().toLowerCase();
}

/** CloudEvents 1.0: attribute names consist of lower-case ASCII letters and digits (`data_base64` aside). */
const ATTRIBUTE_NAME = /^(?:[a-z0-9]+|data_base64)$/;
/** RFC 3986 URI-reference, loosely: no whitespace, control or excluded characters; `%` only as an escape. */
const URI_REFERENCE = /^(?:[^\s\p{Cc}"<>\\^`{|}%]|%[0-9A-Fa-f]{2})+$/u;
/** RFC 3986 absolute URI: a scheme, then no whitespace. */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

/** CloudEvents type system: extension values are scalars (String, Integer, Boolean, URI, Timestamp). */
const extensionValueSchema = z.union([z.string(), z.number().int(), z.boolean()], {
  message: "extension attributes must be strings, integers or booleans",
});

/** The CloudEvents attribute checks (exported for the test that `plainlyValidAttributes` agrees with it). */
export const coreAttributesSchema = z
  .object({
    specversion: z.literal("1.0", { message: 'must be "1.0"' }),
    id: z.string().min(1, "must not be empty").max(256, "must be at most 256 characters"),
    source: z
      .string()
      .min(1, "must not be empty")
      .max(1024, "must be at most 1024 characters")
      .regex(URI_REFERENCE, "must be a URI-reference (no spaces or control characters, valid %-escapes)"),
    type: z.string().min(1, "must not be empty").max(256, "must be at most 256 characters"),
    time: z.iso.datetime({ offset: true, message: "must be an RFC 3339 date-time" }).optional(),
    datacontenttype: z
      .string()
      .refine((value) => isJsonMediaType(value), "edgebus accepts JSON data only (application/json)")
      .optional(),
    dataschema: z.string().regex(ABSOLUTE_URI, "must be an absolute URI").optional(),
    subject: z.string().min(1, "must not be empty").optional(),
    data_base64: z.never({ message: "binary data (data_base64) is not accepted; send JSON data" }).optional(),
    schemaurl: z.never({ message: "is a CloudEvents 0.3 attribute; 1.0 calls it dataschema" }).optional(),
    data: z.unknown().optional(),
  })
  .catchall(extensionValueSchema)
  .superRefine((attributes, ctx) => {
    for (const name of Object.keys(attributes)) {
      if (!ATTRIBUTE_NAME.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "attribute names are lower-case letters a-z and digits 0-9 only",
        });
      }
    }
  });

function isJsonMediaType(value: string): boolean {
  const type = value.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

function invalidEnvelope(message: string, issues: ValidationIssue[]): EdgebusError {
  return new EdgebusError("invalid_envelope", message, { details: { issues } });
}

/**
 * 422 when the event holds text Postgres cannot store (`storable-text.ts`), naming each place as
 * the client wrote it: an attribute, a `ce-*` header, a legacy field, a path in `data`.
 */
function refuseUnstorableText(issues: readonly ValidationIssue[]): void {
  if (issues.length === 0) return;
  throw new EdgebusError(
    "schema_validation_failed",
    `the event holds text Postgres cannot store (U+0000 or an unpaired surrogate) at ${issues.map((issue) => issue.path || "(the value)").join(", ")}`,
    { details: { issues } },
  );
}

/** The `time` attribute's own check, compiled (`fast-parse.ts`): the pattern zod tests. */
const acceptsTime = compileFastParse(coreAttributesSchema.shape.time.unwrap());

/** Attributes `coreAttributesSchema` lets be absent (or undefined). */
const OPTIONAL_ATTRIBUTES: ReadonlySet<string> = new Set(
  Object.entries(coreAttributesSchema.shape)
    .filter(([, schema]) => schema.safeParse(undefined).success)
    .map(([name]) => name),
);

/**
 * The same checks as `coreAttributesSchema`, written out for the common case: true only when zod
 * would accept the attributes too. Whatever this does not accept is decided by zod, which also
 * words the refusal, so it may be stricter than zod but never looser. (zod without its JIT, as
 * in Workers, spent more on these few attributes than on a typical event's `data`.)
 */
export function plainlyValidAttributes(attributes: Record<string, unknown>): boolean {
  const { specversion, id, source, type } = attributes;
  if (specversion !== "1.0") return false;
  if (typeof id !== "string" || id.length < 1 || id.length > 256) return false;
  if (typeof source !== "string" || source.length < 1 || source.length > 1024 || !URI_REFERENCE.test(source))
    return false;
  if (typeof type !== "string" || type.length < 1 || type.length > 256) return false;
  for (const name in attributes) {
    if (!Object.hasOwn(attributes, name)) continue;
    const value = attributes[name];
    if (value === undefined) {
      if (!OPTIONAL_ATTRIBUTES.has(name)) return false;
      continue;
    }
    switch (name) {
      case "specversion":
      case "id":
      case "source":
      case "type":
      case "data":
        break;
      case "time":
        if (typeof value !== "string" || acceptsTime === undefined || acceptsTime(value) === REJECTED) return false;
        break;
      case "datacontenttype":
        if (typeof value !== "string" || !isJsonMediaType(value)) return false;
        break;
      case "dataschema":
        if (typeof value !== "string" || !ABSOLUTE_URI.test(value)) return false;
        break;
      case "subject":
        if (typeof value !== "string" || value.length < 1) return false;
        break;
      case "data_base64":
      case "schemaurl":
        return false;
      default:
        if (!ATTRIBUTE_NAME.test(name)) return false;
        if (typeof value !== "string" && typeof value !== "boolean" && !Number.isSafeInteger(value)) return false;
    }
  }
  return true;
}

function checkCoreAttributes(attributes: unknown): void {
  if (typeof attributes === "object" && attributes !== null && !Array.isArray(attributes)) {
    if (plainlyValidAttributes(attributes as Record<string, unknown>)) return;
  }
  const parsed = coreAttributesSchema.safeParse(attributes);
  if (!parsed.success) {
    throw invalidEnvelope("the CloudEvent attributes are invalid", toValidationIssues(parsed.error.issues));
  }
}

/** Checked attributes in the form the producer stores: `time` in UTC with milliseconds, "now" when absent. */
function withNormalTime(attributes: Record<string, unknown>): Record<string, unknown> {
  const time = attributes.time;
  return { ...attributes, time: typeof time === "string" ? new Date(time).toISOString() : new Date().toISOString() };
}

export function parseJson(text: string): unknown {
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new EdgebusError(
      "malformed_json",
      `the request body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels (the limit)`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EdgebusError("malformed_json", `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** CloudEvents HTTP binding §3.1.3.2: header values are percent-encoded. */
function percentDecode(name: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw invalidEnvelope(`header ${name} is not validly percent-encoded`, [
      { path: name.slice(3), message: "invalid percent-encoding" },
    ]);
  }
}

function hasBinaryHeaders(headers: Headers): boolean {
  return headers.has("ce-id") || headers.has("ce-specversion") || headers.has("ce-type") || headers.has("ce-source");
}

/**
 * A structured-mode event given as parsed JSON (also used per batch item). `scanText`: false when
 * the JSON text it was parsed from cannot hold text Postgres refuses (`jsonTextMayHoldUnstorable`).
 */
export function parseStructuredEvent(json: unknown, scanText = true): IncomingEvent {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw invalidEnvelope("a structured CloudEvent must be a JSON object", [{ path: "", message: "expected object" }]);
  }
  if (scanText) refuseUnstorableText(findUnstorableText(json));
  checkCoreAttributes(json);
  return { mode: "structured", attributes: withNormalTime(json as Record<string, unknown>) };
}

function parseBinaryEvent(headers: Headers, bodyText: string): IncomingEvent {
  const ceHeaders: Record<string, string> = {};
  const attributes: Record<string, unknown> = {};
  headers.forEach((value, name) => {
    if (!name.startsWith("ce-")) return;
    const decoded = percentDecode(name, value);
    ceHeaders[name] = decoded;
    attributes[name.slice(3)] = decoded;
  });
  refuseUnstorableText(
    Object.entries(ceHeaders).flatMap(([name, value]) =>
      findUnstorableText(value).map((issue) => ({ ...issue, path: name })),
    ),
  );
  checkCoreAttributes(attributes);
  const data = bodyText.trim() === "" ? undefined : parseJson(bodyText);
  refuseUnstorableText(findUnstorableText(data, ["data"]));
  return {
    mode: "binary",
    attributes: withNormalTime({
      ...attributes,
      datacontenttype: MEDIA_TYPES.json,
      ...(data === undefined ? {} : { data }),
    }),
  };
}

/** A legacy envelope sent where a CloudEvent is expected: no `specversion`, but `event_id` and `event_type`. */
function isLegacyShaped(json: unknown): boolean {
  return looksLikeLegacyEnvelope(json) && !Object.hasOwn(json as object, "specversion");
}

/** The generic bus envelope (`generic-bus.ts`): `eventId` and `eventType`, no `specversion`. */
function parseBusEvent(json: unknown, options: ParseOptions, scanText: boolean): IncomingEvent {
  if (scanText) refuseUnstorableText(findUnstorableText(json));
  const parsed = busEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    throw invalidEnvelope("the event bus envelope is invalid", toValidationIssues(parsed.error.issues));
  }
  const attributes = fromBusEnvelope(parsed.data);
  let sourceGivenAs: IncomingEvent["sourceGivenAs"];
  if (attributes.source === undefined) {
    if (options.missingSource === undefined) {
      throw invalidEnvelope("the event bus envelope is invalid", [{ path: "source", message: "required" }]);
    }
    attributes.source = options.missingSource();
    sourceGivenAs = "api-key";
  }
  checkCoreAttributes(attributes);
  return {
    mode: "bus",
    attributes: withNormalTime(attributes),
    ...(sourceGivenAs === undefined ? {} : { sourceGivenAs }),
  };
}

/** Legacy envelope, generic bus envelope or CloudEvent, told apart by their identity fields. */
function parseEnvelope(json: unknown, options: ParseOptions, scanText: boolean): IncomingEvent {
  if (isLegacyShaped(json)) return parseLegacyEvent(json, options, scanText);
  if (looksLikeBusEnvelope(json)) return parseBusEvent(json, options, scanText);
  return parseStructuredEvent(json, scanText);
}

function parseLegacyEvent(json: unknown, options: ParseOptions, scanText: boolean): IncomingEvent {
  if (scanText) refuseUnstorableText(findUnstorableText(json));
  const parsed = legacyEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    throw invalidEnvelope("the legacy envelope is invalid", toValidationIssues(parsed.error.issues));
  }
  const legacy = parsed.data;
  let sourceGivenAs: IncomingEvent["sourceGivenAs"] = typeof legacy.source === "object" ? "service" : undefined;
  if (legacy.source === undefined) {
    if (options.missingSource === undefined) {
      throw invalidEnvelope("the legacy envelope is invalid", [{ path: "source", message: "required" }]);
    }
    legacy.source = options.missingSource();
    sourceGivenAs = "api-key";
  }
  const attributes = fromLegacyEnvelope(legacy);
  checkCoreAttributes(attributes);
  return {
    mode: "legacy",
    attributes: withNormalTime(attributes),
    ...(sourceGivenAs === undefined ? {} : { sourceGivenAs }),
  };
}

/**
 * One event from `POST /v1/events`: structured, binary or legacy, chosen by `Content-Type` and
 * the presence of `ce-*` headers.
 */
export function parseSingleEvent(headers: Headers, bodyText: string, options: ParseOptions = {}): IncomingEvent {
  const mediaType = mediaTypeOf(headers.get("content-type"));
  if (mediaType === MEDIA_TYPES.structured) {
    return parseEnvelope(parseJson(bodyText), options, jsonTextMayHoldUnstorable(bodyText));
  }
  if (mediaType === MEDIA_TYPES.batch) {
    throw new EdgebusError("unsupported_media_type", "batches go to POST /v1/events/batch", {
      details: { accepted: [MEDIA_TYPES.structured, MEDIA_TYPES.json] },
    });
  }
  if (mediaType === MEDIA_TYPES.json) {
    if (hasBinaryHeaders(headers)) return parseBinaryEvent(headers, bodyText);
    const json = parseJson(bodyText);
    const scanText = jsonTextMayHoldUnstorable(bodyText);
    if (looksLikeLegacyEnvelope(json)) return parseLegacyEvent(json, options, scanText);
    if (looksLikeBusEnvelope(json)) return parseBusEvent(json, options, scanText);
    throw invalidEnvelope(
      "an application/json body must come with ce-* headers (binary mode) or be a legacy or event bus envelope",
      [{ path: "", message: "no ce-id header, no event_id/event_type and no eventId/eventType fields" }],
    );
  }
  throw new EdgebusError(
    "unsupported_media_type",
    mediaType === undefined ? "Content-Type is required" : `Content-Type ${mediaType} is not supported`,
    { details: { accepted: [MEDIA_TYPES.structured, MEDIA_TYPES.json] } },
  );
}

/** Outcome of one batch item: its parsed event or why it was rejected. */
export type BatchItem = { ok: true; event: IncomingEvent } | { ok: false; error: EdgebusError };

/**
 * A batch body (`application/cloudevents-batch+json`): a JSON array of structured events (or
 * legacy envelopes, see above). The batch as a whole is refused only for a wrong content type,
 * malformed JSON, a non-array or too many events; each item is otherwise parsed on its own so one
 * bad event does not sink the others.
 */
export function parseBatch(headers: Headers, bodyText: string, options: ParseOptions = {}): BatchItem[] {
  const mediaType = mediaTypeOf(headers.get("content-type"));
  if (mediaType !== MEDIA_TYPES.batch) {
    throw new EdgebusError(
      "unsupported_media_type",
      mediaType === undefined ? "Content-Type is required" : `Content-Type ${mediaType} is not supported here`,
      { details: { accepted: [MEDIA_TYPES.batch] } },
    );
  }
  const json = parseJson(bodyText);
  if (!Array.isArray(json)) {
    throw invalidEnvelope("a batch must be a JSON array of CloudEvents", [{ path: "", message: "expected array" }]);
  }
  if (json.length === 0) {
    throw invalidEnvelope("a batch must contain at least one event", [{ path: "", message: "empty array" }]);
  }
  if (json.length > ENVELOPE_LIMITS.maxBatchEvents) {
    throw new EdgebusError(
      "payload_too_large",
      `a batch may hold at most ${ENVELOPE_LIMITS.maxBatchEvents} events, got ${json.length}`,
      { details: { limit: ENVELOPE_LIMITS.maxBatchEvents, actual: json.length } },
    );
  }
  const scanText = jsonTextMayHoldUnstorable(bodyText);
  return json.map((item): BatchItem => {
    try {
      return { ok: true, event: parseEnvelope(item, options, scanText) };
    } catch (error) {
      if (error instanceof EdgebusError) return { ok: false, error };
      throw error;
    }
  });
}
