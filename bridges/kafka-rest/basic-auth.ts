import type { MiddlewareHandler } from "hono";
import { EdgebusError } from "#shared/errors.ts";

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * HTTP Basic auth as `@upstash/kafka` sends it (`authorization: Basic base64(user:pass)`); the
 * password may contain `:` so the decoded text is split on the first one. Comparison does not
 * stop at the first differing byte.
 *
 * @example app.use("*", basicAuth({ username: "edgebus", password: process.env.PASS }))
 */
export function basicAuth(credentials: BasicCredentials): MiddlewareHandler {
  const expected = `${credentials.username}:${credentials.password}`;
  return async function basicAuthMiddleware(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) throw new EdgebusError("unauthorized", "missing Basic authorization");
    const decoded = Buffer.from(match[1] as string, "base64").toString("latin1");
    if (decoded.indexOf(":") < 0 || !constantTimeEqual(decoded, expected)) {
      throw new EdgebusError("unauthorized", "invalid username or password");
    }
    await next();
  };
}

function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}
