import type { z } from "zod";
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { toInputJsonSchema } from "#shared/catalogue/compatibility.ts";
import { EdgebusError } from "#shared/errors.ts";
import { topicForType } from "#shared/names.ts";
import type { schemaSummarySchema } from "../api-schemas.ts";
import type { ProducerApp } from "../hono-env.ts";

export function schemaSummaries(catalogue: Catalogue): z.infer<typeof schemaSummarySchema>[] {
  return catalogue.types().map((type) => {
    const definition = catalogue.require(type);
    return {
      type,
      version: definition.version,
      description: definition.description,
      topic: topicForType(type),
      entity_id_field: definition.entityIdField ?? null,
      requires_eventversion: definition.requiresEventVersion === true,
      href: `/v1/schemas/${type}`,
    };
  });
}

/** JSON Schema (2020-12) of an event type's `data`, with the catalogue's metadata and example. */
export function dataJsonSchema(catalogue: Catalogue, type: string): Record<string, unknown> {
  const definition = catalogue.require(type);
  return {
    ...toInputJsonSchema(definition.data),
    $id: `/v1/schemas/${type}`,
    title: type,
    description: definition.description,
    "x-edgebus-version": definition.version,
    "x-edgebus-topic": topicForType(type),
    ...(definition.entityIdField === undefined ? {} : { "x-edgebus-entity-id-field": definition.entityIdField }),
    "x-edgebus-requires-eventversion": definition.requiresEventVersion === true,
    examples: [definition.example],
  };
}

/** `GET /v1/schemas` (the catalogue) and `GET /v1/schemas/{type}` (one type's JSON Schema; 404 with close matches otherwise). */
export function registerV1Schemas(app: ProducerApp): void {
  app.get("/v1/schemas", (c) => c.json({ schemas: schemaSummaries(c.get("caps").catalogue) }));
  app.get("/v1/schemas/:type", (c) => {
    const { catalogue } = c.get("caps");
    const type = c.req.param("type");
    if (!catalogue.has(type)) {
      throw new EdgebusError("not_found", `no schema for event type "${type}"`, {
        details: { type, did_you_mean: catalogue.closeMatches(type) },
      });
    }
    const schema = dataJsonSchema(catalogue, type);
    return c.json(schema, 200, { "Content-Type": "application/schema+json" });
  });
}
