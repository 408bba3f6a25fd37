import type { ProducerApp } from "../hono-env.ts";

/** `GET /healthz` — liveness plus which backends this isolate uses (no secrets, no I/O). */
export function registerHealthz(app: ProducerApp): void {
  app.get("/healthz", (c) => {
    const caps = c.get("caps");
    return c.json({
      status: "ok" as const,
      environment: caps.config.environment,
      dedup: caps.dedup.shared ? ("redis" as const) : ("memory" as const),
      rate_limit: caps.config.redis === null ? ("memory" as const) : ("redis" as const),
      kafka: caps.kafka !== null,
    });
  });
}
