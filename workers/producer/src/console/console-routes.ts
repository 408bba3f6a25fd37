/**
 * The operator console's API under `/console/api/`, for the pages under `/console/`
 * (`console-pages.ts`, from `workers/producer/console-pages/`).
 * Cookie sessions, not API keys (`console-session.ts`); not part of the public OpenAPI document.
 *
 * - `GET|POST|DELETE /console/api/session` — who is signed in / sign in with a key / sign out.
 * - `GET /console/api/overview` — the Overview snapshot (`overview.ts`).
 * - `GET /console/api/catalogue` — every type: version history with JSON Schemas, example event,
 *   topic, the routing rules and queues it matches.
 * - `GET /console/api/topics/{topic}/events|stream` — the live tail through the bridge (`topic-proxy.ts`).
 * - `/console/api/v1/…` — the admin API's own handlers (dead letters, replay jobs) and, in
 *   development only, `POST /v1/events` ("publish this example"), called with the session's key
 *   instead of a bearer key: the same validation, limits and errors as the API, no second copy.
 *   Scopes are checked as for the API (admin routes need an admin key: a metrics-only session
 *   is read-only and gets 403).
 */
import type { Context } from "hono";
import { dataJsonSchema, exampleEvent } from "#shared/catalogue/event-json-schema.ts";
import { EdgebusError } from "#shared/errors.ts";
import { routeEvent } from "#shared/routing/router.ts";
import type { Capabilities } from "../capabilities.ts";
import type { ProducerApp, ProducerEnv } from "../hono-env.ts";
import type { ProducerRoute } from "../route-definition.ts";
import { type ConsoleSession, requireSession, sessionInfo, signIn, signOut } from "./console-session.ts";
import { readOverview } from "./overview.ts";
import { maskPersonalData, maySeePersonalData } from "./personal-data.ts";
import { latestEvents, liveStream } from "./topic-proxy.ts";

export const CONSOLE_API = "/console/api";

/** API routes the console reaches through its session: dead letters and replay jobs, and the dev-only publish. */
function forwarded(route: ProducerRoute): boolean {
  const path = route.route.path;
  if (path.startsWith("/v1/dead-letters") || path.startsWith("/v1/replay")) return true;
  return path === "/v1/events" && route.route.method === "post";
}

function assertScopes(session: ConsoleSession, scopes: readonly string[]): void {
  if (scopes.includes("admin") && !session.principal.admin) {
    throw new EdgebusError(
      "forbidden",
      `API key ${session.principal.id} lacks the admin scope (the console is read-only for it)`,
    );
  }
}

export function catalogueView(caps: Capabilities) {
  const { catalogue } = caps;
  return catalogue.types().map((type) => {
    const definition = catalogue.require(type);
    const example = exampleEvent(definition);
    const route = routeEvent(catalogue.routesFor(type), example as never, {
      kafkaEnabled: true,
      topicOf: (t) => catalogue.topicFor(t),
    });
    return {
      type,
      version: definition.version,
      description: definition.description,
      topic: catalogue.topicFor(type),
      requires_eventversion: definition.requiresEventVersion === true,
      aliases: definition.aliases ?? [],
      versions: catalogue
        .versionsOf(type)
        .map(({ version, data }) => ({ version, json_schema: dataJsonSchema({ ...definition, version, data }) }))
        .reverse(),
      example,
      routes: { rules: route.rules, queues: route.queues, kafka_topic: route.kafkaTopic },
    };
  });
}

/** Masks a dead letter's original message for a session that may not see personal data. */
async function maskedDeadLetter(response: Response): Promise<Response> {
  if (!response.ok) return response;
  const body = (await response.json()) as Record<string, unknown>;
  const masked = { ...body, body: maskPersonalData(body.body) };
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(JSON.stringify(masked), { status: response.status, headers });
}

export function registerConsole(app: ProducerApp, routes: readonly ProducerRoute[]): void {
  app.use(`${CONSOLE_API}/*`, async (c, next) => {
    await next();
    c.res.headers.set("Cache-Control", "no-store");
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  });
  app.get(`${CONSOLE_API}/session`, sessionInfo);
  app.post(`${CONSOLE_API}/session`, signIn);
  app.delete(`${CONSOLE_API}/session`, signOut);

  app.get(`${CONSOLE_API}/overview`, async (c) => {
    await requireSession(c);
    return c.json(await readOverview(c.get("caps")));
  });
  app.get(`${CONSOLE_API}/catalogue`, async (c) => {
    await requireSession(c);
    const caps = c.get("caps");
    return c.json({
      environment: caps.config.environment,
      publish_examples: caps.config.environment === "development",
      types: catalogueView(caps),
    });
  });
  app.get(`${CONSOLE_API}/topics`, async (c) => {
    await requireSession(c);
    const { catalogue, config } = c.get("caps");
    return c.json({
      topics: catalogue.topics().map((topic) => topic.name),
      live: config.console.bridgeUrl !== null && config.kafka !== null,
    });
  });
  app.get(`${CONSOLE_API}/topics/:topic/events`, async (c) => {
    const session = await requireSession(c);
    return latestEvents(c, !maySeePersonalData(session.principal));
  });
  app.get(`${CONSOLE_API}/topics/:topic/stream`, async (c) => {
    const session = await requireSession(c);
    return liveStream(c, !maySeePersonalData(session.principal));
  });

  for (const route of routes.filter(forwarded)) {
    const scopes = route.scopes ?? [];
    const path = `${CONSOLE_API}${route.route.getRoutingPath()}`;
    const method = route.route.method.toUpperCase();
    const isPublish = route.route.path === "/v1/events";
    const isDeadLetterDetail = method === "GET" && route.route.path === "/v1/dead-letters/{id}";
    app.on(method, path, async (c: Context<ProducerEnv>) => {
      const session = await requireSession(c);
      if (isPublish && c.get("caps").config.environment !== "development") {
        throw new EdgebusError("forbidden", "publishing from the console is for development only");
      }
      if (isPublish && session.role !== "admin") {
        throw new EdgebusError("forbidden", "a read-only (metrics) console session may not publish");
      }
      assertScopes(session, scopes);
      const response = await route.handler(c, session.principal);
      return isDeadLetterDetail && !maySeePersonalData(session.principal) ? maskedDeadLetter(response) : response;
    });
  }
}
