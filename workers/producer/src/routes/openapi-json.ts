import { createRoute } from "@hono/zod-openapi";
import type { EventCatalogue } from "#shared/catalogue/catalogue-set.ts";
import { defineRoute, type ProducerRoute } from "../route-definition.ts";

/**
 * `GET /openapi.json` — the document `render` derives from the route declarations (the list this
 * route belongs to, hence the parameter); rendered once per isolate, the catalogue is fixed at
 * deploy time.
 */
export function openApiJson(render: (catalogue: EventCatalogue) => Record<string, unknown>): ProducerRoute {
  let cached: { catalogue: unknown; document: Record<string, unknown> } | undefined;
  return defineRoute(
    createRoute({
      method: "get",
      path: "/openapi.json",
      operationId: "openApi",
      summary: "This document",
      responses: {
        200: { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } },
      },
    }),
    (c) => {
      const { catalogue } = c.get("caps");
      if (cached?.catalogue !== catalogue) cached = { catalogue, document: render(catalogue) };
      return c.json(cached.document);
    },
  );
}
