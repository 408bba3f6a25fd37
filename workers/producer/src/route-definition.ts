/**
 * A producer route is written once, in its own file under `routes/`: a `createRoute` declaration
 * (`@hono/zod-openapi`) with the method, path, request and response schemas, the key it needs
 * (`security`) and its docs, and beside it the handler. Everything else is derived from those
 * declarations: the handlers' registration, the key check, 405 with `Allow` for other methods
 * (`routeMethods`) and the OpenAPI document (`openapi-document.ts`).
 *
 * Only the declarations of `@hono/zod-openapi` are used, not `OpenAPIHono#openapi`: its
 * validators would read the body before `read-body.ts` enforces the size limits, answer an
 * unexpected content type with their own 415, and need a hook per route to keep the error shape.
 * The handlers keep their parsing (the admin ones with the schemas of their own declaration), so
 * every failure still goes through `error-response.ts` as `{error: {code, message, …}}`.
 */
import type { RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { z } from "zod";
import { EdgebusError, ERROR_CODES } from "#shared/errors.ts";
import { errorBodySchema } from "./api-schemas.ts";
import { METRICS_SCOPE, SUBSCRIPTIONS_SCOPE } from "./auth/api-key-config.ts";
import { assertAdmin, type Principal } from "./auth/authenticate.ts";
import { authenticateRequest } from "./authenticate-request.ts";
import type { ProducerApp, ProducerEnv } from "./hono-env.ts";

/** What `createRoute` returns. */
export type DeclaredRoute = RouteConfig & { getRoutingPath(): string };

/** The scheme every secured route names (`components.securitySchemes`). */
export const BEARER_SCHEME = "bearerAuth";
/** The scopes a key can hold; a route lists the ones it needs in its `security` requirement. */
const KNOWN_SCOPES: ReadonlySet<string> = new Set(["admin", METRICS_SCOPE, SUBSCRIPTIONS_SCOPE]);

/** `security` of a route any valid API key may call (what it may publish is checked per event). */
export const API_KEY = [{ [BEARER_SCHEME]: [] as string[] }];
/** `security` of a route only a key with the `admin` scope may call. */
export const ADMIN_KEY = [{ [BEARER_SCHEME]: ["admin"] }];
/** `security` of a route a key with the `metrics` scope may call (an `admin` key may too). */
export const METRICS_KEY = [{ [BEARER_SCHEME]: [METRICS_SCOPE] }];
/** `security` of a route a key with the `subscriptions` scope may call (only its own subscriptions; `admin`: all). */
export const SUBSCRIPTIONS_KEY = [{ [BEARER_SCHEME]: [SUBSCRIPTIONS_SCOPE] }];

/** A handler; `Path` (the routing path, `/v1/replay/:id`) types `c.req.param()`. */
export type RouteHandler<Caller, Path extends string = string> = (
  c: Context<ProducerEnv, Path>,
  caller: Caller,
) => Response | Promise<Response>;

export interface ProducerRoute {
  readonly route: DeclaredRoute;
  /** What a caller's key must hold: `undefined` for a public route (no `security`), else these scopes. */
  readonly scopes: readonly string[] | undefined;
  readonly handler: RouteHandler<Principal | undefined>;
}

/** The scopes a declaration requires: `undefined` when it is public (no `security`). */
function declaredScopes(route: DeclaredRoute): readonly string[] | undefined {
  if (route.security === undefined) return undefined;
  const [requirement, ...alternatives] = route.security;
  const schemes = Object.keys(requirement ?? {});
  if (requirement === undefined || alternatives.length > 0 || schemes.length !== 1 || schemes[0] !== BEARER_SCHEME) {
    throw new Error(`${route.method} ${route.path}: security must be one ${BEARER_SCHEME} requirement`);
  }
  const scopes = requirement[BEARER_SCHEME] ?? [];
  const unknown = scopes.filter((scope) => !KNOWN_SCOPES.has(scope));
  if (unknown.length > 0) throw new Error(`${route.method} ${route.path}: unknown scopes ${unknown.join(", ")}`);
  return scopes;
}

/**
 * A route: its declaration and its handler. A declaration with `security` gets the caller's key
 * (401 without a valid one, 403 without the declared scopes) before the handler runs, as the
 * handler's second argument; a public one gets `undefined`.
 */
export function defineRoute<R extends DeclaredRoute>(
  route: R,
  handler: RouteHandler<
    R extends { security: readonly unknown[] } ? Principal : undefined,
    ReturnType<R["getRoutingPath"]>
  >,
): ProducerRoute {
  return { route, scopes: declaredScopes(route), handler: handler as RouteHandler<Principal | undefined> };
}

/** 401 without a valid key, 403 without one of `scopes`; `undefined` for a public route. */
async function authorize(c: Context<ProducerEnv>, scopes: readonly string[] | undefined) {
  if (scopes === undefined) return undefined;
  const principal = await authenticateRequest(c);
  if (scopes.includes("admin")) assertAdmin(principal);
  if (scopes.includes(METRICS_SCOPE) && !principal.admin && !principal.scopes.includes(METRICS_SCOPE)) {
    throw new EdgebusError("forbidden", `API key ${principal.id} lacks the ${METRICS_SCOPE} scope`);
  }
  if (scopes.includes(SUBSCRIPTIONS_SCOPE) && !principal.admin && !principal.scopes.includes(SUBSCRIPTIONS_SCOPE)) {
    throw new EdgebusError("forbidden", `API key ${principal.id} lacks the ${SUBSCRIPTIONS_SCOPE} scope`);
  }
  return principal;
}

/**
 * Routing path (`/v1/replay/:id`) → the methods declared on it, in declaration order; GET brings
 * HEAD, which Hono answers with the GET handler. The app answers any other method with 405 and
 * these as `Allow`.
 */
export function routeMethods(routes: readonly ProducerRoute[]): Record<string, string[]> {
  const methods: Record<string, string[]> = {};
  for (const { route } of routes) {
    const path = route.getRoutingPath();
    const allowed = methods[path] ?? [];
    methods[path] = allowed;
    const method = route.method.toUpperCase();
    if (allowed.includes(method)) throw new Error(`${method} ${route.path} is declared twice`);
    allowed.push(method);
    if (method === "GET") allowed.push("HEAD");
  }
  return methods;
}

/** Answers every method `app` does not route on `path` with 405 and `Allow: <allow>`, in the API's error shape. */
export function refuseOtherMethods(app: ProducerApp, path: string, allow: readonly string[]): void {
  app.all(path, (c) => {
    throw new EdgebusError("method_not_allowed", `${c.req.method} is not allowed on ${path}`, { details: { allow } });
  });
}

/** Registers each route's handler, behind the key check its declaration asks for. */
export function registerRoutes(app: ProducerApp, routes: readonly ProducerRoute[]): void {
  for (const { route, scopes, handler } of routes) {
    app.on(route.method.toUpperCase(), route.getRoutingPath(), async (c) => handler(c, await authorize(c, scopes)));
  }
}

/** A JSON body or response of `schema`. */
export function jsonContent<S extends z.ZodType>(schema: S) {
  return { "application/json": { schema } };
}

/** The schema a declaration gives its JSON request body (the handler validates with it). */
export function jsonBodySchema<S extends z.ZodType>(route: {
  request: { body: { content: { "application/json": { schema: S } } } };
}): S {
  return route.request.body.content["application/json"].schema;
}

/** One documented response per status, naming the error codes it can carry; the body is the one error shape. */
export function errorResponses(statuses: readonly number[]) {
  const responses: Record<string, { description: string; content: ReturnType<typeof jsonContent> }> = {};
  for (const status of statuses) {
    const codes = Object.entries(ERROR_CODES)
      .filter(([, s]) => s === status)
      .map(([code]) => `\`${code}\``);
    responses[String(status)] = { description: `Error (${codes.join(", ")})`, content: jsonContent(errorBodySchema) };
  }
  return responses;
}
