import { createRoute } from "@hono/zod-openapi";
import { healthSchema } from "../api-schemas.ts";
import { defineRoute, jsonContent } from "../route-definition.ts";

/** `GET /healthz` — liveness plus which backends this isolate uses (no secrets, no I/O). */
export const healthz = defineRoute(
  createRoute({
    method: "get",
    path: "/healthz",
    operationId: "health",
    summary: "Liveness and configured backends",
    responses: { 200: { description: "Healthy", content: jsonContent(healthSchema) } },
  }),
  (c) => {
    const caps = c.get("caps");
    return c.json({
      status: "ok" as const,
      environment: caps.config.environment,
      dedup: caps.dedup.shared ? ("redis" as const) : ("memory" as const),
      rate_limit: caps.config.redis === null ? ("memory" as const) : ("redis" as const),
      kafka: caps.kafka !== null,
    });
  },
);
