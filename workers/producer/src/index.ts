/**
 * Worker entry point of the producer API. The app (and its per-isolate state: metrics, the
 * in-memory fallbacks) is created once per isolate.
 */
import { createProducerApp } from "./app.ts";

/** Durable Object class of the REPLAY_JOBS binding (wrangler.toml); one instance per replay job. */
export { ReplayJobRunner } from "./replay-job-runner.ts";

const app = createProducerApp();

export default {
  fetch: (request: Request, env: Record<string, unknown>, ctx: ExecutionContext) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Record<string, unknown>>;
