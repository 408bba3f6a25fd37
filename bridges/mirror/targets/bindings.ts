import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import {
  type BindingMode,
  binaryParts,
  type DecodedCloudEvent,
  fromBinaryParts,
  fromStructuredBody,
  isStructured,
  STRUCTURED_CONTENT_TYPE,
} from "../cloud-event-binding.ts";

/**
 * The CloudEvents bindings of the non-Kafka targets, both ways: the target writes with `to…`, and
 * consumers (the contract suite, the example consumer in docs/deployment-vps-rabbitmq.md) read
 * with `from…`. Structured mode is the same everywhere: the body is the event's JSON with content
 * type `application/cloudevents+json`.
 */

// ---- AMQP 0-9-1 (RabbitMQ) ---------------------------------------------------------------------

/** The application-property prefix of the CloudEvents AMQP binding. */
export const AMQP_PREFIX = "cloudEvents:";

export interface AmqpMessage {
  readonly contentType: string | undefined;
  /** The AMQP headers table (application properties). */
  readonly headers: Record<string, string | number | boolean>;
  readonly body: Buffer;
}

/**
 * CloudEvents AMQP binding. Binary: every attribute except `datacontenttype` (and the data) is a
 * `cloudEvents:<name>` header, with its native AMQP type where there is one (integers as signed
 * integers, booleans as booleans, everything else a string); `datacontenttype` is the message's
 * `content-type` property; the body is the data. Structured: `content-type:
 * application/cloudevents+json` and the event's JSON, plus `cloudEvents:id`, `:source` and `:type`
 * headers (the binding allows them) so queues can be inspected without parsing bodies.
 */
export function toAmqpMessage(event: CloudEventRecord, mode: BindingMode): AmqpMessage {
  if (mode === "structured") {
    return {
      contentType: STRUCTURED_CONTENT_TYPE,
      headers: {
        [`${AMQP_PREFIX}id`]: event.id,
        [`${AMQP_PREFIX}source`]: event.source,
        [`${AMQP_PREFIX}type`]: event.type,
      },
      body: Buffer.from(JSON.stringify(event)),
    };
  }
  const parts = binaryParts(event);
  const headers: Record<string, string | number | boolean> = {};
  for (const [name, value] of parts.attributes) {
    headers[`${AMQP_PREFIX}${name}`] =
      typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isInteger(value))
        ? value
        : JSON.stringify(value);
  }
  return { contentType: parts.contentType, headers, body: Buffer.from(parts.body) };
}

/**
 * A consumed AMQP message back into the event. `body` as the client hands it over: bytes, or what
 * rabbitmq-client already decoded for `text/plain` (a string) and `application/json` (a value).
 * Header names are matched case-insensitively, `cloudEvents_` (the binding's older prefix) too.
 */
export function fromAmqpMessage(message: {
  readonly contentType?: string | undefined;
  readonly headers?: Readonly<Record<string, unknown>> | undefined;
  readonly body: unknown;
}): DecodedCloudEvent {
  const body = bodyBytes(message.body);
  if (isStructured(message.contentType)) return fromStructuredBody(body);
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message.headers ?? {})) {
    const name = key.toLowerCase();
    for (const prefix of ["cloudevents:", "cloudevents_"]) {
      if (name.startsWith(prefix) && name.length > prefix.length) attributes[name.slice(prefix.length)] = value;
    }
  }
  return fromBinaryParts(attributes, message.contentType, body);
}

function bodyBytes(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body as Buffer;
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (typeof body === "string") return Buffer.from(body);
  if (body === undefined || body === null) return Buffer.alloc(0);
  return Buffer.from(JSON.stringify(body));
}

// ---- NATS --------------------------------------------------------------------------------------

export interface NatsMessageParts {
  /** Header name → value (already percent-encoded for binary mode). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

/**
 * CloudEvents NATS binding. Binary: every attribute, `datacontenttype` included, is a `ce-<name>`
 * header whose value is the attribute's string form percent-encoded (space, `"`, `%` and anything
 * outside printable ASCII as UTF-8 bytes `%XY`); the body is the data. Structured: header
 * `Content-Type: application/cloudevents+json` and the event's JSON.
 */
export function toNatsMessage(event: CloudEventRecord, mode: BindingMode): NatsMessageParts {
  if (mode === "structured") {
    return { headers: [["Content-Type", STRUCTURED_CONTENT_TYPE]], body: Buffer.from(JSON.stringify(event)) };
  }
  const parts = binaryParts(event);
  const headers: [string, string][] = parts.attributes.map(([name, value]) => [
    `ce-${name}`,
    percentEncode(typeof value === "string" ? value : JSON.stringify(value)),
  ]);
  if (parts.contentType !== undefined) headers.push(["ce-datacontenttype", percentEncode(parts.contentType)]);
  return { headers, body: Buffer.from(parts.body) };
}

/** A NATS message (headers as name/value pairs, body bytes) back into the event. */
export function fromNatsMessage(
  headers: readonly (readonly [string, string])[],
  body: Uint8Array,
): DecodedCloudEvent | { ok: false; reason: string } {
  const contentTypeHeader = headers.find(([name]) => name.toLowerCase() === "content-type")?.[1];
  if (isStructured(contentTypeHeader)) return fromStructuredBody(body);
  const attributes: Record<string, unknown> = {};
  let contentType: string | undefined;
  for (const [key, raw] of headers) {
    const name = key.toLowerCase();
    if (!name.startsWith("ce-") || name.length <= 3) continue;
    const value = percentDecode(unquote(raw));
    if (value === undefined) return { ok: false, reason: `header ${key} is not valid percent-encoded UTF-8` };
    if (name === "ce-datacontenttype") contentType = value;
    else attributes[name.slice(3)] = value;
  }
  return fromBinaryParts(attributes, contentType, body);
}

export function percentEncode(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (code >= 0x21 && code <= 0x7e && char !== '"' && char !== "%") out += char;
    else for (const byte of Buffer.from(char, "utf8")) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Undefined when the bytes are not valid UTF-8 (overlong forms included). */
export function percentDecode(text: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "%" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const byte of Buffer.from(text[i] as string, "utf8")) bytes.push(byte);
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length < 2 || !trimmed.startsWith('"') || !trimmed.endsWith('"')) return trimmed;
  return trimmed.slice(1, -1).replace(/\\(.)/g, "$1");
}

// ---- Redis Streams -----------------------------------------------------------------------------

/**
 * A stream entry's fields. Binary: each attribute a field of its own name (numbers and booleans as
 * their string form), `datacontenttype` when there is data, and `data` holding the body bytes (no
 * `data` field: no data). Structured: `content-type: application/cloudevents+json` and `event`
 * holding the event's JSON.
 */
export function toStreamFields(event: CloudEventRecord, mode: BindingMode): (string | Buffer)[] {
  if (mode === "structured") return ["content-type", STRUCTURED_CONTENT_TYPE, "event", JSON.stringify(event)];
  const parts = binaryParts(event);
  const fields: (string | Buffer)[] = [];
  for (const [name, value] of parts.attributes)
    fields.push(name, typeof value === "string" ? value : JSON.stringify(value));
  if (parts.contentType !== undefined) fields.push("datacontenttype", parts.contentType);
  const hasData = event.data !== undefined || typeof event.data_base64 === "string";
  if (hasData) fields.push("data", Buffer.from(parts.body));
  return fields;
}

/** An entry as `XREAD`/`XRANGE` returns it with a Buffer client (flat name, value list) back into the event. */
export function fromStreamFields(fields: readonly (string | Buffer)[]): DecodedCloudEvent {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    map.set(String(fields[i]), Buffer.from(fields[i + 1] as Buffer | string));
  }
  if (isStructured(map.get("content-type")?.toString("utf8"))) {
    return fromStructuredBody(map.get("event") ?? Buffer.alloc(0));
  }
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of map) {
    if (name !== "data" && name !== "datacontenttype") attributes[name] = value.toString("utf8");
  }
  return fromBinaryParts(attributes, map.get("datacontenttype")?.toString("utf8"), map.get("data") ?? Buffer.alloc(0));
}
