import type { Context } from "hono";
import { authenticate, type Principal } from "./auth/authenticate.ts";
import type { ProducerEnv } from "./hono-env.ts";

/** The caller of this request, from `Authorization: Bearer <key>` (401 otherwise). */
export function authenticateRequest(c: Context<ProducerEnv>): Promise<Principal> {
  return authenticate(c.req.header("authorization") ?? null, c.get("caps").config.apiKeys);
}
