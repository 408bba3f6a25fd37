import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { defineRoute } from "../route-definition.ts";

/** `GET /metrics` — Prometheus text exposition of this isolate's counters. */
export const metrics = defineRoute(
  createRoute({
    method: "get",
    path: "/metrics",
    operationId: "metrics",
    summary: "Prometheus metrics of the answering isolate",
    responses: {
      200: { description: "Prometheus text format 0.0.4", content: { "text/plain": { schema: z.string() } } },
    },
  }),
  (c) => c.text(c.get("caps").metrics.render(), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }),
);
