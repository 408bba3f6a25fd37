/**
 * JSON Schema of a whole CloudEvent of one catalogue type: the envelope attributes edgebus
 * accepts plus that type's `data`. Published as `schemas/generated/json-schema/<type>.json`,
 * served by `GET /v1/schemas/{type}` and embedded in the AsyncAPI document, so clients can
 * validate events before sending them.
 *
 * The envelope part follows what the producer enforces (`shared/src/envelope/`); the extension
 * attributes are taken from its zod schema rather than restated.
 */
import { z } from "zod";
import { extensionsSchema, reservedExtensionsSchema } from "../envelope/extensions.ts";
import { topicForType } from "../names.ts";
import type { EventTypeDefinition } from "./types.ts";

export type JsonSchemaTarget = "draft-2020-12" | "draft-7";

const DIALECTS: Record<JsonSchemaTarget, string> = {
  "draft-2020-12": "https://json-schema.org/draft/2020-12/schema",
  "draft-7": "http://json-schema.org/draft-07/schema#",
};

/** Stable identifier of a type's schema at a version (a URN: it names, it does not locate). */
export function schemaIdOf(type: string, version: number): string {
  return `urn:edgebus:schema:${type}:v${version}`;
}

export interface EventJsonSchemaOptions {
  /** JSON Schema dialect; AsyncAPI 3 payloads use draft-7. Default draft 2020-12. */
  readonly target?: JsonSchemaTarget;
  /** Include the `$schema` keyword (omitted when the schema is embedded in another document). */
  readonly dialect?: boolean;
}

/** Formats defined by the JSON Schema specification; validators reject others in strict mode. */
const STANDARD_FORMATS = new Set([
  "date-time",
  "date",
  "time",
  "duration",
  "email",
  "idn-email",
  "hostname",
  "idn-hostname",
  "ipv4",
  "ipv6",
  "uri",
  "uri-reference",
  "iri",
  "iri-reference",
  "uuid",
  "uri-template",
  "json-pointer",
  "relative-json-pointer",
  "regex",
]);

/**
 * Drops formats outside the standard set (zod emits e.g. `e164`) where a `pattern` already
 * carries the same constraint, so stock validators (ajv in strict mode) accept the schema.
 */
function withStandardFormats(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withStandardFormats);
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  const record = schema as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    // A property named `format` maps to a schema object, not a string, so it is never dropped here.
    if (key === "format" && typeof value === "string" && !STANDARD_FORMATS.has(value) && "pattern" in record) continue;
    out[key] = withStandardFormats(value);
  }
  return out;
}

/** JSON Schema of `data` alone, as a client sends it (input side of the zod schema). */
export function dataJsonSchema(definition: EventTypeDefinition, target: JsonSchemaTarget = "draft-2020-12") {
  const { $schema: _, ...schema } = z.toJSONSchema(definition.data, { target, io: "input", unrepresentable: "any" });
  return withStandardFormats(schema) as Record<string, unknown>;
}

export function eventJsonSchema(
  definition: EventTypeDefinition,
  options: EventJsonSchemaOptions = {},
): Record<string, unknown> {
  const target = options.target ?? "draft-2020-12";
  // The reserved attributes are read-only: edgebus sets them on every event it delivers and
  // refuses them from a client.
  const { $schema: _, properties: extensionProperties } = z.toJSONSchema(
    extensionsSchema.extend(reservedExtensionsSchema.shape),
    { target, io: "input" },
  ) as { $schema?: string; properties: Record<string, unknown> };
  return {
    ...(options.dialect === false ? {} : { $schema: DIALECTS[target] }),
    $id: schemaIdOf(definition.type, definition.version),
    title: `${definition.type} v${definition.version}`,
    description: definition.description,
    $comment: `CloudEvents 1.0 event (structured JSON form) of type ${definition.type}, data schema version ${definition.version}, Kafka topic ${topicForType(definition.type)}.`,
    version: definition.version,
    type: "object",
    properties: {
      specversion: { type: "string", const: "1.0" },
      id: {
        type: "string",
        minLength: 1,
        maxLength: 256,
        description: "Unique per source; source + id is the duplicate key",
      },
      source: { type: "string", minLength: 1, maxLength: 1024, description: "URI-reference of the producing service" },
      type: { type: "string", const: definition.type },
      time: { type: "string", format: "date-time", description: "RFC 3339; defaults to the time of receipt" },
      datacontenttype: { type: "string", pattern: "^application/([a-z0-9.+-]+\\+)?json(;.*)?$" },
      dataschema: { type: "string", format: "uri" },
      subject: { type: "string", minLength: 1 },
      ...extensionProperties,
      data: dataJsonSchema(definition, target),
    },
    required: [
      "specversion",
      "id",
      "source",
      "type",
      ...(definition.requiresEventVersion ? ["eventversion"] : []),
      "data",
    ],
    // Further extension attributes are allowed by CloudEvents: lowercase alphanumeric names.
    propertyNames: { pattern: "^[a-z0-9]{1,20}$" },
    additionalProperties: { type: ["string", "integer", "boolean"] },
    examples: [exampleEvent(definition)],
  };
}

/**
 * A complete, valid example event for a type, built from its `example` data. Deterministic so
 * the generated artefacts do not change between runs.
 */
export function exampleEvent(definition: EventTypeDefinition): Record<string, unknown> {
  const segments = definition.type.split(".");
  const event: Record<string, unknown> = {
    specversion: "1.0",
    id: `example-${segments.slice(-2).join("-")}-1`,
    source: `/${segments.slice(0, -2).join("/")}`,
    type: definition.type,
    time: "2026-06-01T12:00:00Z",
    datacontenttype: "application/json",
  };
  const entityId = definition.entityIdField ? readField(definition.example, definition.entityIdField) : undefined;
  if (entityId !== undefined) {
    event.subject = entityId;
    event.partitionkey = entityId;
  }
  if (definition.requiresEventVersion) event.eventversion = 1;
  event.data = definition.example;
  return event;
}

function readField(value: unknown, path: string): string | undefined {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === "string" || typeof current === "number" ? String(current) : undefined;
}

/** The subset of JSON Schema that `z.toJSONSchema` produces and this check understands. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema | boolean;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  not?: JsonSchema;
  $ref?: string;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  [keyword: string]: unknown;
}

/** The JSON Schema of what a client may send for `schema` (zod's input side, draft 2020-12). */
export function toInputJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as JsonSchema;
}
