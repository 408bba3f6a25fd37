/**
 * What the producer API documents from the event catalogue, which is the deployment's (tests
 * inject others): each type's data JSON Schema (`GET /v1/schemas/{type}`) and the OpenAPI
 * components only the catalogue can fill. Route declarations are static, so they name those
 * components through the stand-in schemas below; `catalogueComponents` renders them.
 */
import { z } from "zod";
import type { EventCatalogue } from "#shared/catalogue/catalogue-set.ts";
import { toInputJsonSchema } from "#shared/catalogue/event-json-schema.ts";
import { upcasterId } from "#shared/catalogue/upcaster.ts";

type JsonObject = Record<string, unknown>;

/** Stand-in for component `CatalogueEvent`: a structured event of one of the catalogue's types. */
export const catalogueEventSchema = z.unknown();
/** Stand-in for component `EventType`: one of the catalogue's event types. */
export const eventTypeSchema = z.string();

/** The stand-ins with their component names (`catalogueComponents` renders them). */
export const CATALOGUE_STAND_INS: ReadonlyArray<readonly [z.ZodType, string]> = [
  [catalogueEventSchema, "CatalogueEvent"],
  [eventTypeSchema, "EventType"],
];

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** JSON Schema (2020-12) of an event type's `data`, with the catalogue's metadata and example. */
export function dataJsonSchema(catalogue: EventCatalogue, type: string): JsonObject {
  const definition = catalogue.require(type);
  return {
    ...toInputJsonSchema(definition.data),
    $id: `/v1/schemas/${type}`,
    title: type,
    description: definition.description,
    "x-edgebus-version": definition.version,
    "x-edgebus-topic": catalogue.topicFor(type),
    ...(definition.entityIdField === undefined ? {} : { "x-edgebus-entity-id-field": definition.entityIdField }),
    "x-edgebus-requires-eventversion": definition.requiresEventVersion === true,
    // Other names and forms the producer accepts for this type, upcast to this schema (docs/seed-events.md).
    ...(definition.aliases?.length ? { "x-edgebus-aliases": definition.aliases } : {}),
    ...(definition.upcasters?.length
      ? {
          "x-edgebus-accepted-forms": definition.upcasters.map((upcaster) => ({
            form: upcasterId(upcaster),
            description: upcaster.description,
          })),
        }
      : {}),
    examples: [definition.example],
  };
}

/**
 * Per type `data.<type>` (its data schema) and `event.<type>` (a CloudEvent carrying it); then
 * `CatalogueEvent` (any of them, with the first type's event as example) and `EventType`.
 */
export function catalogueComponents(catalogue: EventCatalogue): Record<string, JsonObject> {
  const schemas: Record<string, JsonObject> = {};
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
  const first = firstType === undefined ? undefined : catalogue.require(firstType);
  const example =
    first === undefined
      ? undefined
      : {
          specversion: "1.0",
          id: "7d4f1d5e-6a4b-4d55-9a57-2f4d3c9a1b11",
          source: "/services/example",
          type: first.type,
          eventversion: 1,
          data: first.example,
        };
  schemas.CatalogueEvent = { oneOf: eventRefs, ...(example === undefined ? {} : { examples: [example] }) };
  schemas.EventType = { type: "string", enum: catalogue.types() };
  return schemas;
}
