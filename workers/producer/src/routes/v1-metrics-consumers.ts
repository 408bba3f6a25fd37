import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { databaseError, openDatabase } from "#shared/db/client.ts";
import { EdgebusError } from "#shared/errors.ts";
import { renderConsumerMetrics } from "../consumer-metrics-text.ts";
import { readConsumerSeries, readDeadLetterSeries } from "../db/consumer-metrics-reader.ts";
import { QUEUE_METRICS_TIMEOUT_MS, readQueueBacklogs } from "../queue-backlog.ts";
import { defineRoute, errorResponses, METRICS_KEY } from "../route-definition.ts";
import { webhookMetricsText } from "../subscriptions/webhook-metrics.ts";

/**
 * `GET /v1/metrics/consumers` — Prometheus text of the consumers, queues and dead letters
 * (docs/metrics.md): what the consumer Workers wrote to `edgebus.consumer_metrics`, each queue's
 * backlog from its producer binding (`Queue.metrics()`), and the dead letters in
 * `edgebus.dead_letters`. For a key with the `metrics` scope (or `admin`). Postgres is required:
 * without it the scrape fails (503), so the scrape alert fires instead of the series going quiet.
 */
export const consumerMetrics = defineRoute(
  createRoute({
    method: "get",
    path: "/v1/metrics/consumers",
    operationId: "consumerMetrics",
    summary: "Prometheus metrics of the consumers, queues and dead letters",
    description: `For a key with the \`metrics\` scope (an admin key may too). Counters are totals over every batch the consumer Workers recorded in \`edgebus.consumer_metrics\`; queue backlogs come from each queue's \`metrics()\` (a queue that does not answer within ${QUEUE_METRICS_TIMEOUT_MS} ms is left out); dead letters from \`edgebus.dead_letters\`. 503 \`upstream_unavailable\` without Postgres.`,
    security: METRICS_KEY,
    responses: {
      200: { description: "Prometheus text format 0.0.4", content: { "text/plain": { schema: z.string() } } },
      ...errorResponses([401, 403, 503]),
    },
  }),
  async (c) => {
    const config = c.get("caps").config;
    const url = config.admin.databaseUrl;
    if (url === null) {
      throw new EdgebusError(
        "upstream_unavailable",
        "the consumer metrics are in Postgres: bind HYPERDRIVE in wrangler.toml",
        { retryable: false },
      );
    }
    const backlogs = readQueueBacklogs(config.queues);
    // Not ended here (see withAdminDatabase): the runtime closes the request's sockets.
    const sql = openDatabase(url, { max: 1 });
    let text: string;
    try {
      const consumers = await readConsumerSeries(sql);
      const deadLetters = await readDeadLetterSeries(sql);
      text = renderConsumerMetrics(consumers, await backlogs, deadLetters) + (await webhookMetricsText(sql));
    } catch (thrown) {
      await backlogs;
      throw databaseError(thrown, "reading the consumer metrics");
    }
    return c.text(text, 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
  },
);
