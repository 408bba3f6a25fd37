/**
 * The producer's OpenAPI 3.1 document, generated from the same zod schemas that validate requests
 * and shape responses (`z.toJSONSchema`), plus one schema per catalogue event type. Served at
 * `GET /openapi.json`, rendered by `GET /docs`, and committed as an artefact
 * (`scripts/generate-artefacts.ts`) so a change shows up in review and is drift-checked in CI.
 */
import { z } from "zod";
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { BINARY_MODE_HEADERS } from "#shared/envelope/cloud-event.ts";
import { cloudEventInputSchema } from "#shared/envelope/cloud-event-input.ts";
import { legacyEnvelopeSchema } from "#shared/envelope/legacy.ts";
import { ENVELOPE_LIMITS } from "#shared/envelope/limits.ts";
import { ERROR_CODES } from "#shared/errors.ts";
import {
  batchItemResultSchema,
  batchResponseSchema,
  errorBodySchema,
  healthSchema,
  receiptSchema,
  schemaListSchema,
  schemaSummarySchema,
} from "./api-schemas.ts";
import { ADMIN_COMPONENTS, adminOpenApiPaths } from "./routes/admin-openapi.ts";
import { dataJsonSchema } from "./routes/v1-schemas.ts";

type JsonObject = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The named API schemas; references between them become `$ref`s. */
function apiComponents(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  registry.add(receiptSchema, { id: "Receipt" });
  registry.add(errorBodySchema, { id: "Error" });
  registry.add(batchItemResultSchema, { id: "BatchItemResult" });
  registry.add(batchResponseSchema, { id: "BatchResponse" });
  registry.add(schemaSummarySchema, { id: "SchemaSummary" });
  registry.add(schemaListSchema, { id: "SchemaList" });
  registry.add(healthSchema, { id: "Health" });
  registry.add(cloudEventInputSchema, { id: "CloudEvent" });
  registry.add(legacyEnvelopeSchema, { id: "LegacyEnvelope" });
  for (const [schema, id] of ADMIN_COMPONENTS) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonObject> };
  for (const schema of Object.values(schemas)) delete schema.$schema;
  return schemas;
}

function errorResponses(statuses: readonly number[]): Record<string, JsonObject> {
  const responses: Record<string, JsonObject> = {};
  for (const status of statuses) {
    const codes = Object.entries(ERROR_CODES)
      .filter(([, s]) => s === status)
      .map(([code]) => `\`${code}\``);
    responses[String(status)] = {
      description: `Error (${codes.join(", ")})`,
      content: { "application/json": { schema: ref("Error") } },
    };
  }
  return responses;
}

export function renderOpenApi(catalogue: Catalogue): JsonObject {
  const schemas: Record<string, JsonObject> = apiComponents();
  const eventRefs: JsonObject[] = [];
  for (const type of catalogue.types()) {
    const { $schema: _, $id: __, ...data } = dataJsonSchema(catalogue, type);
    schemas[`data.${type}`] = data;
    const required = catalogue.require(type).requiresEventVersion ? ["eventversion", "data"] : ["data"];
    schemas[`event.${type}`] = {
      allOf: [
        ref("CloudEvent"),
        { type: "object", properties: { type: { const: type }, data: ref(`data.${type}`) }, required },
      ],
    };
    eventRefs.push(ref(`event.${type}`));
  }
  const [firstType] = catalogue.types();
  const firstDefinition = firstType === undefined ? undefined : catalogue.require(firstType);
  const structuredExample =
    firstDefinition === undefined
      ? undefined
      : {
          specversion: "1.0",
          id: "7d4f1d5e-6a4b-4d55-9a57-2f4d3c9a1b11",
          source: "/services/example",
          type: firstDefinition.type,
          eventversion: 1,
          data: firstDefinition.example,
        };
  const publishErrors = errorResponses([400, 401, 403, 409, 413, 415, 422, 429, 503]);
  const bearer = [{ bearerAuth: [] }];

  return {
    openapi: "3.1.0",
    info: {
      title: "edgebus producer API",
      version: "1.0.0",
      description:
        "Publish CloudEvents to government services. Events are validated against the event catalogue, deduplicated on source + id for 24 h, and routed to Cloudflare Queues and Kafka.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "An edgebus API key" } },
      schemas,
    },
    paths: {
      "/v1/events": {
        post: {
          operationId: "publishEvent",
          summary: "Publish one event",
          description: `Structured mode (\`application/cloudevents+json\`), binary mode (\`ce-*\` headers, percent-encoded, with an \`application/json\` body holding \`data\`) or the legacy envelope (\`application/json\` with \`event_id\`, \`event_type\`…). A request body may be ${ENVELOPE_LIMITS.maxRequestBytes} bytes and the normalised event ${ENVELOPE_LIMITS.maxEventBytes} bytes (the queue message limit minus its metadata). A retry with the same source + id answers \`duplicate\` and publishes only destinations a previous attempt missed.`,
          security: bearer,
          parameters: BINARY_MODE_HEADERS.map((name) => ({
            name,
            in: "header",
            required: false,
            schema: { type: "string" },
            description: "Binary mode only",
          })),
          requestBody: {
            required: true,
            content: {
              "application/cloudevents+json": {
                schema: { oneOf: eventRefs },
                ...(structuredExample === undefined ? {} : { example: structuredExample }),
              },
              "application/json": {
                schema: { anyOf: [ref("LegacyEnvelope"), { description: "Binary mode: the event's data (any JSON)" }] },
              },
            },
          },
          responses: {
            "202": {
              description: "Accepted or duplicate",
              content: { "application/json": { schema: ref("Receipt") } },
            },
            ...publishErrors,
          },
        },
      },
      "/v1/events/batch": {
        post: {
          operationId: "publishBatch",
          summary: `Publish up to ${ENVELOPE_LIMITS.maxBatchEvents} events`,
          description: `A JSON array of structured CloudEvents, at most ${ENVELOPE_LIMITS.maxBatchEvents} events and ${ENVELOPE_LIMITS.maxBatchBytes} bytes. Each event gets its own result (202 or an error status) in request order.`,
          security: bearer,
          requestBody: {
            required: true,
            content: {
              "application/cloudevents-batch+json": {
                schema: {
                  type: "array",
                  minItems: 1,
                  maxItems: ENVELOPE_LIMITS.maxBatchEvents,
                  items: { oneOf: eventRefs },
                },
              },
            },
          },
          responses: {
            "200": {
              description: "Per-event results",
              content: { "application/json": { schema: ref("BatchResponse") } },
            },
            ...errorResponses([400, 401, 413, 415, 429]),
          },
        },
      },
      "/v1/schemas": {
        get: {
          operationId: "listSchemas",
          summary: "The event catalogue",
          responses: {
            "200": { description: "Known event types", content: { "application/json": { schema: ref("SchemaList") } } },
          },
        },
      },
      "/v1/schemas/{type}": {
        get: {
          operationId: "getSchema",
          summary: "JSON Schema of an event type's data",
          parameters: [
            { name: "type", in: "path", required: true, schema: { type: "string", enum: catalogue.types() } },
          ],
          responses: {
            "200": {
              description: "JSON Schema 2020-12",
              content: { "application/schema+json": { schema: { type: "object" } } },
            },
            ...errorResponses([404]),
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openApi",
          summary: "This document",
          responses: {
            "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } },
          },
        },
      },
      "/docs": {
        get: {
          operationId: "docs",
          summary: "Interactive API documentation",
          responses: { "200": { description: "HTML page", content: { "text/html": { schema: { type: "string" } } } } },
        },
      },
      "/healthz": {
        get: {
          operationId: "health",
          summary: "Liveness and configured backends",
          responses: { "200": { description: "Healthy", content: { "application/json": { schema: ref("Health") } } } },
        },
      },
      "/metrics": {
        get: {
          operationId: "metrics",
          summary: "Prometheus metrics of the answering isolate",
          responses: {
            "200": {
              description: "Prometheus text format 0.0.4",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
      ...adminOpenApiPaths({ ref, errorResponses }),
    },
  };
}
