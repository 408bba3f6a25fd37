import type { ProducerApp } from "../hono-env.ts";
import { renderOpenApi } from "../openapi.ts";

/** `GET /openapi.json` — rendered once per isolate; the catalogue is fixed at deploy time. */
export function registerOpenApiJson(app: ProducerApp): void {
  let cached: { catalogue: unknown; document: Record<string, unknown> } | undefined;
  app.get("/openapi.json", (c) => {
    const { catalogue } = c.get("caps");
    if (cached?.catalogue !== catalogue) cached = { catalogue, document: renderOpenApi(catalogue) };
    return c.json(cached.document);
  });
}
