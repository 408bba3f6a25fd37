import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { EdgebusError } from "#shared/errors.ts";
import { readBoundedBody } from "../http/bounded-body.ts";
import type { LeanRoute } from "../http/lean-routes.ts";
import { parsePathCommand } from "./command-body.ts";
import {
  type Access,
  type CoreAnswer,
  errorAnswer,
  type RedisRestAppOptions,
  RedisRestCore,
  wantsBase64,
} from "./gateway-core.ts";
import { createRedisRestLeanRoutes } from "./lean-routes.ts";
import type { SubscriptionKind } from "./subscriptions.ts";

export type { RedisRestAppOptions } from "./gateway-core.ts";

/** The gateway's Hono app and, sharing its state, the lean routes for its hot paths. */
export interface RedisRestGateway {
  readonly app: Hono;
  /**
   * `POST {prefix}`, `{prefix}/pipeline` and `{prefix}/multi-exec` served without Hono
   * (`bridges/http/lean-routes.ts`), for the app mounted at `prefix`: same answers, same
   * transaction connections, scripts and body budget.
   */
  leanRoutes(prefix: string): LeanRoute[];
  /** Socket writes made so far on the connection of pipelines and single commands (round trips). */
  pipelineWrites(): number;
}

/**
 * An Upstash-compatible Redis REST API over a real Redis, speaking what `@upstash/redis` sends with
 * its defaults (base64 responses, auto-pipelining): `POST /` (one command), `POST /pipeline`,
 * `POST /multi-exec`, `Authorization: Bearer <token>`.
 *
 * Responses follow the Upstash wire shape, not edgebus's error body, because the client reads
 * `body.error` as a string: `{result}` (null included), `{error: "ERR …"}` with 400 for a failed
 * single command or a discarded transaction, in-place `{error}` items with 200 for pipelines,
 * 401 for a bad token, 413/415/400 for oversized, non-JSON or malformed bodies, 503 when Redis is
 * unreachable or every transaction connection is busy (with `Retry-After`). Only the commands of
 * the allow list run (`command-policy.ts`); the rest are refused with NOPERM, and Redis's ACL user
 * (`redis-acl.ts`) refuses them inside Lua too. Over a Redis user that is not restricted the
 * gateway answers 503 unless `allowUnrestrictedUser` is set (`user-guard.ts`).
 *
 * @example
 * const app = new Hono();
 * app.route("/redis", createRedisRestApp({ redis: new Redis(process.env.REDIS_URL), token }));
 */
export function createRedisRestApp(options: RedisRestAppOptions): Hono {
  return createRedisRestGateway(options).app;
}

/** `createRedisRestApp`'s app plus its lean routes (the bridge serves both, bridges/server.ts). */
export function createRedisRestGateway(options: RedisRestAppOptions): RedisRestGateway {
  const core = new RedisRestCore(options);
  return {
    app: honoApp(core),
    leanRoutes: (prefix) => createRedisRestLeanRoutes(core, prefix),
    pipelineWrites: () => core.runner.pipelineWrites,
  };
}

function honoApp(core: RedisRestCore): Hono {
  const { bodyLimits, guard, subscriptions } = core;
  const app = new Hono<{ Variables: { access: Access } }>();

  app.onError((error, c) => renderError(c, error));
  app.notFound((c) => renderError(c, new EdgebusError("not_found", `no route for ${c.req.method} ${c.req.path}`)));

  app.use("*", async function requireToken(c, next) {
    c.set(
      "access",
      core.authorize(c.req.header("authorization"), () => c.req.query("_token")),
    );
    await next();
  });

  // Bodies are read only after the token was checked, counted on the stream (chunked too), within
  // the limit and the area's budget (bridges/http/bounded-body.ts).
  const body = (c: Context) => readBoundedBody(c, bodyLimits);
  const base64 = (c: Context) => wantsBase64(c.req.header("upstash-encoding"));
  const access = (c: Context<{ Variables: { access: Access } }>) => c.get("access");
  const answer = (c: Context, { status, body }: CoreAnswer) => c.json(body, status as ContentfulStatusCode);

  // Upstash accepts the command body whatever the content type says (`curl -d` sends a form type).
  app.on(["POST", "PUT"], "/", async (c) => answer(c, await core.singleFromBody(access(c), await body(c), base64(c))));

  app.on(["POST", "PUT"], "/pipeline", async (c) =>
    c.json(await core.pipelineFromBody(access(c), await body(c), base64(c))),
  );

  app.on(["POST", "PUT"], "/multi-exec", async (c) =>
    c.json(await core.transactionFromBody(access(c), await body(c), base64(c))),
  );

  for (const path of ["/", "/pipeline", "/multi-exec"]) {
    app.all(path, (c) => {
      c.header("Allow", "POST, PUT");
      return renderError(c, new EdgebusError("method_not_allowed", `${c.req.method} is not allowed; use POST`));
    });
  }

  // Pub/sub over Server-Sent Events: POST as @upstash/redis sends it, GET for EventSource and curl.
  for (const kind of ["subscribe", "psubscribe"] as const satisfies SubscriptionKind[]) {
    app.on(["GET", "POST"], `/${kind}/*`, async (c) => {
      if (!subscriptions) {
        throw new EdgebusError("bad_request", `ERR ${kind} is turned off on this bridge (redisRest.subscriptions)`);
      }
      const channels = pathSegments(c).slice(1);
      // The client sends `[]` as the body; it carries nothing, but is read (within the limit) so
      // the connection is clean.
      await readBoundedBody(c, { maxBytes: 4096 });
      await guard.assertServable();
      const env = c.env as { outgoing?: import("node:http").ServerResponse } | undefined;
      if (!env?.outgoing) throw new EdgebusError("bad_request", `ERR ${kind} needs the bridge's HTTP server`);
      await subscriptions.open(env.outgoing, kind, decodeSegments(channels));
      return RESPONSE_ALREADY_SENT;
    });
  }
  app.all("/monitor", () => {
    throw new EdgebusError(
      "bad_request",
      "ERR MONITOR is not served by this gateway: it would show every client's commands (bridges/README.md)",
    );
  });

  // Path style: `/set/foo/bar`, `/get/foo`, a POST body as the last argument, query arguments.
  app.on(["GET", "POST", "PUT"], "/*", async (c) => {
    const bytes = c.req.method === "GET" ? undefined : await body(c);
    const query = new URL(c.req.url).search.replace(/^\?/, "");
    return answer(c, await core.single(access(c), parsePathCommand(pathSegments(c), bytes, query), base64(c)));
  });
  app.all("/*", (c) => {
    c.header("Allow", "GET, HEAD, POST, PUT");
    return renderError(c, new EdgebusError("method_not_allowed", `${c.req.method} is not allowed`));
  });

  return app as unknown as Hono;
}

/**
 * The raw (still percent-encoded) path segments after the gateway's mount point: the mount's own
 * segments are those of the matched route's pattern before its final `/*`.
 */
function pathSegments(c: Context): string[] {
  const raw = new URL(c.req.url).pathname.split("/").slice(1);
  const mount = c.req.routePath.replace(/\/\*$/, "").split("/").slice(1);
  // A route like `/subscribe/*` counts its own fixed segment as part of the command.
  const fixed = mount.findIndex((segment) => segment === "subscribe" || segment === "psubscribe");
  const prefix = fixed >= 0 ? fixed : mount.filter((segment) => segment !== "").length;
  const segments = raw.slice(prefix);
  // One trailing slash (`/get/foo/`) adds no empty argument.
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  return segments;
}

function decodeSegments(segments: readonly string[]): string[] {
  return segments.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new EdgebusError("bad_request", `ERR the path segment "${segment}" is not valid percent-encoding`);
    }
  });
}

/** The gateway's error answer (`errorAnswer`) through Hono. */
function renderError(c: Context, error: unknown): Response {
  const { status, body, retryAfter } = errorAnswer(error);
  if (retryAfter !== undefined) c.header("Retry-After", retryAfter);
  return c.json(body, status as ContentfulStatusCode);
}
