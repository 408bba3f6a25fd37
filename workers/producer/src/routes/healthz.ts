import { createRoute } from "@hono/zod-openapi";
import { healthSchema } from "../api-schemas.ts";
import { authenticateRequest } from "../authenticate-request.ts";
import { errorResponse } from "../error-response.ts";
import { notReadyError } from "../readiness.ts";
import { defineRoute, errorResponses, jsonContent } from "../route-definition.ts";

/**
 * `GET /healthz` — liveness plus which backends this isolate uses (no secrets, no I/O). Outside
 * development, 503 with the code of what keeps the deployment from publishing (`readiness.ts`);
 * the settings at fault only for a caller presenting an admin key.
 */
export const healthz = defineRoute(
  createRoute({
    method: "get",
    path: "/healthz",
    operationId: "health",
    summary: "Liveness and configured backends",
    description:
      "Public. 503 `dedup_not_shared` or `kafka_misconfigured` when a staging or production deployment would keep dedup or rate limits in isolate memory or has half its Kafka settings; it then refuses to publish. Send an admin key to see the settings at fault in `details`.",
    responses: {
      200: { description: "Healthy", content: jsonContent(healthSchema) },
      ...errorResponses([503]),
    },
  }),
  async (c) => {
    const caps = c.get("caps");
    if (caps.config.problems.length > 0) {
      const admin = c.req.header("authorization") === undefined ? false : await isAdmin(c);
      return errorResponse(notReadyError(caps, admin), c);
    }
    return c.json({
      status: "ok" as const,
      environment: caps.config.environment,
      dedup: caps.dedup.shared ? ("redis" as const) : ("memory" as const),
      rate_limit: caps.config.redis === null ? ("memory" as const) : ("redis" as const),
      kafka: caps.kafka !== null,
    });
  },
);

/** True for a valid admin key; any other key, or none, is an anonymous caller here. */
async function isAdmin(c: Parameters<typeof authenticateRequest>[0]): Promise<boolean> {
  try {
    return (await authenticateRequest(c)).admin;
  } catch {
    return false;
  }
}
