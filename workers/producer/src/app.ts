/**
 * The producer Hono app: request id → metrics → init (env validated, capabilities wired) →
 * routes; one error handler and one not-found handler render every failure as
 * `{error: {code, message, details?, request_id}}`.
 */
import { Hono } from "hono";
import { routePath } from "hono/route";
import { EdgebusError } from "#shared/errors.ts";
import {
  buildCapabilities,
  type Capabilities,
  type CapabilityOverrides,
  type IsolateFallbacks,
} from "./capabilities.ts";
import { registerConsolePages } from "./console/console-pages.ts";
import { registerConsole } from "./console/console-routes.ts";
import { MemoryDedupStore } from "./dedup/memory-dedup-store.ts";
import { parseProducerEnv } from "./env.ts";
import { errorResponse } from "./error-response.ts";
import type { ProducerApp, ProducerEnv } from "./hono-env.ts";
import { ProducerMetrics } from "./metrics.ts";
import { PRODUCER_ROUTES } from "./producer-routes.ts";
import { refuseOtherMethods, registerRoutes, routeMethods } from "./route-definition.ts";

export interface ProducerAppOptions {
  /** Replace default capabilities (tests: failing publishers, a recording Kafka, another catalogue). */
  capabilities?: CapabilityOverrides;
}

/** Paths and the methods they answer, from the route declarations; any other method gets 405 with `Allow`. */
const ROUTE_METHODS = routeMethods(PRODUCER_ROUTES);

/** A request id from the caller is kept if it is short and printable, so logs can be joined. */
function requestIdFrom(header: string | undefined): string {
  return header !== undefined && /^[\w.:-]{1,128}$/.test(header) ? header : crypto.randomUUID();
}

export function createProducerApp(options: ProducerAppOptions = {}): ProducerApp {
  const app = new Hono<ProducerEnv>();
  const metrics = new ProducerMetrics();
  const fallbacks: IsolateFallbacks = {
    dedup: new MemoryDedupStore(),
    warned: false,
  };
  // Workers hand the same env object to every request of an isolate: wire capabilities once per env.
  const wired = new WeakMap<object, Capabilities>();

  app.use(async (c, next) => {
    const requestId = requestIdFrom(c.req.header("x-request-id"));
    c.set("requestId", requestId);
    await next();
    c.res.headers.set("X-Request-Id", requestId);
    const route = c.res.status === 404 && routePath(c, -1) === "/*" ? "unmatched" : routePath(c, -1);
    metrics.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
  });

  // The console's pages need no bindings: registered before the configuration is read.
  registerConsolePages(app);

  app.use(async (c, next) => {
    const env = (c.env ?? {}) as Record<string, unknown>;
    let caps = wired.get(env);
    if (caps === undefined) {
      caps = buildCapabilities(parseProducerEnv(env), metrics, fallbacks, options.capabilities);
      wired.set(env, caps);
    }
    c.set("caps", caps);
    await next();
  });

  registerRoutes(app, PRODUCER_ROUTES);
  // The operator console's API (its pages are registered above).
  registerConsole(app, PRODUCER_ROUTES);

  for (const [path, allow] of Object.entries(ROUTE_METHODS)) refuseOtherMethods(app, path, allow);

  app.notFound((c) =>
    errorResponse(new EdgebusError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), c),
  );
  app.onError((error, c) => errorResponse(error, c));
  return app;
}
