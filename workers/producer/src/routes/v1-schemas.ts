import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { EventCatalogue } from "#shared/catalogue/catalogue-set.ts";
import { EdgebusError } from "#shared/errors.ts";
import { schemaListSchema, type schemaSummarySchema } from "../api-schemas.ts";
import { dataJsonSchema, eventTypeSchema } from "../catalogue-openapi.ts";
import { defineRoute, errorResponses, jsonContent } from "../route-definition.ts";

export function schemaSummaries(catalogue: EventCatalogue): z.infer<typeof schemaSummarySchema>[] {
  return catalogue.types().map((type) => {
    const definition = catalogue.require(type);
    return {
      type,
      version: definition.version,
      description: definition.description,
      topic: catalogue.topicFor(type),
      entity_id_field: definition.entityIdField ?? null,
      requires_eventversion: definition.requiresEventVersion === true,
      href: `/v1/schemas/${type}`,
    };
  });
}

/** `GET /v1/schemas` — the catalogue. */
export const listSchemas = defineRoute(
  createRoute({
    method: "get",
    path: "/v1/schemas",
    operationId: "listSchemas",
    summary: "The event catalogue",
    responses: { 200: { description: "Known event types", content: jsonContent(schemaListSchema) } },
  }),
  (c) => c.json({ schemas: schemaSummaries(c.get("caps").catalogue) }),
);

/** `GET /v1/schemas/{type}` — one type's JSON Schema; 404 with close matches otherwise. */
export const getSchema = defineRoute(
  createRoute({
    method: "get",
    path: "/v1/schemas/{type}",
    operationId: "getSchema",
    summary: "JSON Schema of an event type's data",
    request: { params: z.object({ type: eventTypeSchema }) },
    responses: {
      200: {
        description: "JSON Schema 2020-12",
        content: { "application/schema+json": { schema: { type: "object" } } },
      },
      ...errorResponses([404]),
    },
  }),
  (c) => {
    const { catalogue } = c.get("caps");
    const type = c.req.param("type");
    if (!catalogue.has(type)) {
      throw new EdgebusError("not_found", `no schema for event type "${type}"`, {
        details: { type, did_you_mean: catalogue.closeMatches(type) },
      });
    }
    const schema = dataJsonSchema(catalogue, type);
    return c.json(schema, 200, { "Content-Type": "application/schema+json" });
  },
);
