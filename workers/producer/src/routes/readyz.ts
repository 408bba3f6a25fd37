import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";
import { errorResponse } from "../error-response.ts";
import { notReadyError } from "../readiness.ts";
import { KAFKA_PROBE_TIMEOUT_MS, type ProbeResult, READINESS_CACHE_MS, readiness } from "../readiness-probes.ts";
import { defineRoute, errorResponses, jsonContent } from "../route-definition.ts";

const checkSchema = z
  .enum(["ok", "not_configured"])
  .describe("`ok`: answered in time; `not_configured`: not used by this deployment, so not asked");

export const readySchema = z.object({
  status: z.literal("ready"),
  checks: z.object({ redis: checkSchema, kafka: checkSchema }),
});

/** `unavailable: <reason>` in an error's details, or the status as it is. */
function describe(result: ProbeResult): string {
  return result.status === "unavailable" ? `unavailable: ${result.reason}` : result.status;
}

/**
 * `GET /readyz` — whether this isolate can publish now: the deployment is ready
 * (`readiness.ts`, as `/healthz` says) and Redis and the Kafka REST endpoint, where configured,
 * answer a probe within their deadline (`readiness-probes.ts`; the answer is kept a few seconds
 * per isolate). 503 with the failing dependency's code, every check in `details.checks`.
 */
export const readyz = defineRoute(
  createRoute({
    method: "get",
    path: "/readyz",
    operationId: "ready",
    summary: "Readiness: Redis and Kafka answer",
    description: `Public. Probes Redis (\`PING\` through the Redis REST endpoint, within \`REDIS_TIMEOUT_MS\`) and the Kafka REST endpoint (\`GET /topics\`, within ${KAFKA_PROBE_TIMEOUT_MS / 1000} s), each only when configured; the answer is reused for ${READINESS_CACHE_MS / 1000} s by the same isolate. 503 \`redis_unavailable\` or \`kafka_unavailable\` names the failing dependency (Redis first when both fail; \`details.checks\` has both); 503 \`dedup_not_shared\` or \`kafka_misconfigured\` as for \`/healthz\`.`,
    responses: {
      200: { description: "Ready", content: jsonContent(readySchema) },
      ...errorResponses([503]),
    },
  }),
  async (c) => {
    const caps = c.get("caps");
    const notReady = notReadyError(caps, false);
    if (notReady !== undefined) return errorResponse(notReady, c);
    const report = await readiness(caps.config);
    const failing = (["redis", "kafka"] as const).find((name) => report[name].status === "unavailable");
    if (failing !== undefined) {
      const checks = { redis: describe(report.redis), kafka: describe(report.kafka) };
      return errorResponse(
        new EdgebusError(
          failing === "redis" ? "redis_unavailable" : "kafka_unavailable",
          `not ready: ${failing} ${checks[failing]}`,
          { retryable: true, retryAfterSeconds: READINESS_CACHE_MS / 1000, details: { checks } },
        ),
        c,
      );
    }
    return c.json({
      status: "ready" as const,
      checks: {
        redis: report.redis.status as "ok" | "not_configured",
        kafka: report.kafka.status as "ok" | "not_configured",
      },
    });
  },
);
