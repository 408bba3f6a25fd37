import type { ProducerApp } from "../hono-env.ts";

/** `GET /metrics` — Prometheus text exposition of this isolate's counters. */
export function registerMetrics(app: ProducerApp): void {
  app.get("/metrics", (c) =>
    c.text(c.get("caps").metrics.render(), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }),
  );
}
