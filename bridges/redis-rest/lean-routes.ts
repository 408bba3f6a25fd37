import { getQueryParam } from "hono/utils/url";
import type { LeanAnswer, LeanRequest, LeanRoute } from "../http/lean-routes.ts";
import { type Access, type CoreAnswer, errorAnswer, type RedisRestCore, wantsBase64 } from "./gateway-core.ts";

/**
 * The forms `@upstash/redis` sends — `POST {prefix}` (one command), `POST {prefix}/pipeline`
 * (auto-pipelining, the default), `POST {prefix}/multi-exec` (transactions) — as lean routes
 * (`bridges/http/lean-routes.ts`) in front of the gateway's Hono app mounted at `prefix`, which
 * still serves every other form (PUT, path-style commands, pub/sub, a trailing slash).
 *
 * Same answers as the Hono routes, because both run the gateway's `RedisRestCore`: the token
 * checked before the body is read (Bearer header, then `?_token=` parsed as Hono parses it), the
 * body read within the same limit and body budget, the same policy and scope checks, the same
 * transaction connections and script map, and errors in the same Upstash shape.
 */
export function createRedisRestLeanRoutes(core: RedisRestCore, prefix: string): LeanRoute[] {
  const limits = core.bodyLimits;
  const authorize = (request: LeanRequest): Access =>
    core.authorize(request.header("authorization"), () => queryToken(request));
  const base64 = (request: LeanRequest) => wantsBase64(request.header("upstash-encoding"));
  const route = (path: string, handle: LeanRoute["handle"]): LeanRoute => ({
    method: "POST",
    path,
    handle,
    fail: (error) => leanAnswer(errorAnswer(error)),
  });
  return [
    route(prefix, async (request) => {
      const access = authorize(request);
      return leanAnswer(await core.singleFromBody(access, await request.body(limits), base64(request)));
    }),
    route(`${prefix}/pipeline`, async (request) => {
      const access = authorize(request);
      const outcomes = await core.pipelineFromBody(access, await request.body(limits), base64(request));
      return { status: 200, json: JSON.stringify(outcomes) };
    }),
    route(`${prefix}/multi-exec`, async (request) => {
      const access = authorize(request);
      const outcomes = await core.transactionFromBody(access, await request.body(limits), base64(request));
      return { status: 200, json: JSON.stringify(outcomes) };
    }),
  ];
}

function leanAnswer({ status, body, retryAfter }: CoreAnswer): LeanAnswer {
  return {
    status,
    json: JSON.stringify(body),
    ...(retryAfter === undefined ? {} : { headers: { "retry-after": retryAfter } }),
  };
}

/** `_token` from the query string, read as Hono's `c.req.query("_token")` reads it. */
function queryToken(request: LeanRequest): string | undefined {
  const url = request.incoming.url ?? "";
  if (!url.includes("?")) return undefined;
  // Hono's reader takes a whole URL (it looks for the query after the scheme and host).
  return getQueryParam(`http://lean${url}`, "_token") as string | undefined;
}
