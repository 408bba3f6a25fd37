import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import type { RecordToProduce } from "../kafka/record.ts";

/**
 * CloudEvents 1.0 Kafka protocol binding (https://github.com/cloudevents/spec, kafka-protocol-binding.md).
 *
 * - `binary` (default): every attribute except `data`/`data_base64`/`datacontenttype` becomes a
 *   `ce_<name>` header (extensions included, numbers and booleans as their string form),
 *   `datacontenttype` becomes the `content-type` header, the value is the data: JSON text for
 *   JSON content types (and when no content type is given), the string itself for other
 *   string data, the decoded bytes for `data_base64`.
 * - `structured`: `content-type: application/cloudevents+json`, the value is the whole event.
 *
 * Key: the `partitionkey` extension (the entity id), so one entity's events keep their order.
 *
 * No tombstones: a Kafka record with a null value deletes its key on compacted topics. An event
 * without data is therefore written with an empty (zero-length, non-null) value in binary mode;
 * consumers see "no data" from the empty value plus the absent `content-type` header.
 */
export type BindingMode = "binary" | "structured";

export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json";
const NOT_HEADERS = new Set(["data", "data_base64", "datacontenttype"]);

export function toKafkaRecord(event: CloudEventRecord, topic: string, mode: BindingMode): RecordToProduce {
  const key = typeof event.partitionkey === "string" && event.partitionkey !== "" ? event.partitionkey : undefined;
  if (mode === "structured") {
    return {
      topic,
      ...(key === undefined ? {} : { key }),
      value: JSON.stringify(event),
      headers: [{ key: "content-type", value: STRUCTURED_CONTENT_TYPE }],
    };
  }
  // binaryParts, written out for Kafka: the headers built straight from the event's attributes.
  const headers: { key: string; value: string }[] = [];
  for (const name in event) {
    const value = (event as Record<string, unknown>)[name];
    if (NOT_HEADERS.has(name) || value === undefined || value === null) continue;
    headers.push({ key: headerName(name), value: typeof value === "string" ? value : JSON.stringify(value) });
  }
  const contentType = binaryContentType(event);
  if (contentType !== undefined) headers.push({ key: "content-type", value: contentType });
  const body = dataValue(event, event.datacontenttype ?? (event.data !== undefined ? "application/json" : undefined));
  return key === undefined ? { topic, value: body, headers } : { topic, key, value: body, headers };
}

/** `ce_<name>`, one string per attribute name (the same dozen names come with every event). */
const headerNames = new Map<string, string>();
function headerName(attribute: string): string {
  let name = headerNames.get(attribute);
  if (name === undefined) {
    name = `ce_${attribute}`;
    // Extension names come from the events: bounded, so odd names cannot grow the map for ever.
    if (headerNames.size < 1024) headerNames.set(attribute, name);
  }
  return name;
}

/** The content type a binary mode sends: only when there is data (see `binaryParts`). */
function binaryContentType(event: CloudEventRecord): string | undefined {
  const hasData = event.data !== undefined || typeof event.data_base64 === "string";
  return hasData ? (event.datacontenttype ?? (event.data !== undefined ? "application/json" : undefined)) : undefined;
}

/**
 * An event split for a binary content mode (every broker binding uses it): the attributes other
 * than `data`/`data_base64`/`datacontenttype` in the event's order (numbers and booleans kept as
 * such; each binding writes them its own way), the content type to send (only when there is data:
 * `datacontenttype`, or `application/json` for JSON data without one) and the body (JSON text for
 * JSON content types and when none is given, the string itself for other string data, the
 * decoded bytes of `data_base64`, empty for no data).
 */
export interface BinaryParts {
  readonly attributes: readonly (readonly [string, unknown])[];
  readonly contentType: string | undefined;
  readonly body: string | Uint8Array;
}

export function binaryParts(event: CloudEventRecord): BinaryParts {
  const attributes: [string, unknown][] = [];
  for (const [name, value] of Object.entries(event)) {
    if (NOT_HEADERS.has(name) || value === undefined || value === null) continue;
    attributes.push([name, value]);
  }
  const contentType = event.datacontenttype ?? (event.data !== undefined ? "application/json" : undefined);
  return { attributes, contentType: binaryContentType(event), body: dataValue(event, contentType) };
}

function dataValue(event: CloudEventRecord, contentType: string | undefined): string | Uint8Array {
  if (typeof event.data_base64 === "string") return Buffer.from(event.data_base64, "base64");
  if (event.data === undefined) return "";
  if (typeof event.data === "string" && contentType !== undefined && !isJson(contentType)) return event.data;
  return JSON.stringify(event.data);
}

function isJson(contentType: string): boolean {
  const media = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return media === "application/json" || media.endsWith("+json") || media === "text/json";
}

/** A Kafka record as the decoder needs it: the value as bytes, headers as text. */
export interface KafkaRecordToDecode {
  readonly value: Uint8Array;
  readonly headers: readonly { readonly key: string; readonly value: string }[];
}

export type DecodedCloudEvent = { ok: true; event: CloudEventRecord } | { ok: false; reason: string };

/**
 * Extension attributes whose type edgebus knows: binary mode carries every attribute as text, so
 * these are turned back into what the producer published (the CloudEvents type system says a
 * receiver maps header strings by the attribute's type).
 */
const INTEGER_ATTRIBUTES = new Set(["eventversion"]);
const BOOLEAN_ATTRIBUTES = new Set(["edgebusdirectcontact"]);

/**
 * The reverse of `toKafkaRecord` (and of the producer's binary records, `shared/src/envelope/
 * kafka-binding.ts`): a record in either content mode back into a structured CloudEvent.
 *
 * - structured: `content-type: application/cloudevents+json`, the value is the event;
 * - binary: `ce_<name>` headers are the attributes (`eventversion` an integer and
 *   `edgebusdirectcontact` a boolean again, every other one text), `content-type` is
 *   `datacontenttype`; the value is the data: parsed JSON for JSON content types and when there
 *   is none, text for `text/*` and XML, `data_base64` for anything else. An empty value without a
 *   content type (the mirror's "no data") and the producer's `null` mean no `data`.
 *
 * Anything else (no `ce_specversion`, a structured value that is not a CloudEvent) is `ok: false`.
 */
export function fromKafkaRecord(record: KafkaRecordToDecode): DecodedCloudEvent {
  let contentType: string | undefined;
  const attributes: Record<string, unknown> = {};
  for (const { key, value } of record.headers) {
    const name = key.toLowerCase();
    if (name === "content-type") contentType = value;
    else if (name.startsWith("ce_") && name.length > 3) attributes[name.slice(3)] = value;
  }
  const value = Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength);
  if (isStructured(contentType)) return fromStructuredBody(value);
  return fromBinaryParts(attributes, contentType, value);
}

/** True for `application/cloudevents+json` (parameters and case ignored). */
export function isStructured(contentType: string | undefined): boolean {
  return contentType?.split(";")[0]?.trim().toLowerCase() === STRUCTURED_CONTENT_TYPE;
}

/** A structured-mode body (the event's JSON) back into the event. */
export function fromStructuredBody(value: Uint8Array): DecodedCloudEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8"));
  } catch {
    return { ok: false, reason: "structured message whose body is not JSON" };
  }
  return checked(parsed);
}

/**
 * The reverse of `binaryParts`, for every binding: attributes by name (text is typed back for the
 * extensions edgebus knows; values that arrive typed, as AMQP's do, are kept), the content type and
 * the body bytes. An empty body without a content type means no `data`.
 */
export function fromBinaryParts(
  rawAttributes: Readonly<Record<string, unknown>>,
  contentType: string | undefined,
  body: Uint8Array,
): DecodedCloudEvent {
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(rawAttributes)) {
    attributes[name] = typeof value === "string" ? typedAttribute(name, value) : value;
  }
  const value = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const media = contentType?.split(";")[0]?.trim().toLowerCase();
  if (attributes.specversion === undefined) return { ok: false, reason: "no specversion attribute (not a CloudEvent)" };
  const event: Record<string, unknown> = { ...attributes };
  if (contentType !== undefined) event.datacontenttype = contentType;
  if (value.byteLength === 0 && contentType === undefined) return checked(event);
  if (media === undefined || isJson(media)) {
    try {
      const data = JSON.parse(value.toString("utf8"));
      if (data !== null || contentType !== undefined) event.data = data;
    } catch {
      event.data_base64 = value.toString("base64");
    }
  } else if (media.startsWith("text/") || media.endsWith("xml")) {
    event.data = value.toString("utf8");
  } else {
    event.data_base64 = value.toString("base64");
  }
  return checked(event);
}

function typedAttribute(name: string, value: string): unknown {
  if (INTEGER_ATTRIBUTES.has(name) && /^[1-9][0-9]{0,15}$/.test(value)) return Number(value);
  if (BOOLEAN_ATTRIBUTES.has(name) && (value === "true" || value === "false")) return value === "true";
  return value;
}

function checked(candidate: unknown): DecodedCloudEvent {
  if (!candidate || typeof candidate !== "object" || Array.isArray(candidate)) {
    return { ok: false, reason: "not a CloudEvent object" };
  }
  const event = candidate as Record<string, unknown>;
  for (const name of ["specversion", "id", "source", "type"]) {
    if (typeof event[name] !== "string" || event[name] === "") {
      return { ok: false, reason: `CloudEvent without ${name}` };
    }
  }
  return { ok: true, event: event as CloudEventRecord };
}
