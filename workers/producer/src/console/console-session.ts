/**
 * The console's sign-in, sign-out and per-request session check (cookie format and signatures in
 * `session.ts`, sign-out records in `revocations.ts`).
 *
 * Cookie: `__Host-edgebus_console` (`Secure`, `Path=/`, no `Domain`: only this origin over HTTPS
 * can set or read it) outside development; `edgebus_console` without `Secure` in development,
 * which runs on plain http://127.0.0.1. Always `HttpOnly` (page scripts never see it) and
 * `SameSite=Strict` (no other site's page or link sends it).
 *
 * CSRF: every console request that changes something (any method but GET/HEAD) must carry the
 * session's CSRF token in `X-CSRF-Token` and, when the browser sends `Origin`, come from this
 * origin. Sign-in (no session yet) needs a JSON body (a cross-site form cannot send one without a
 * CORS preflight, which the producer never grants) and a same-origin `Origin` when one is sent.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger } from "#shared/log.ts";
import { METRICS_SCOPE } from "../auth/api-key-config.ts";
import { authenticate, type Principal } from "../auth/authenticate.ts";
import type { ProducerConfig } from "../env.ts";
import type { ProducerEnv } from "../hono-env.ts";
import { readBodyText } from "../read-body.ts";
import { createProducerRedis } from "../redis-client.ts";
import { maySeePersonalData } from "./personal-data.ts";
import { MemorySessionRevocations, RedisSessionRevocations, type SessionRevocations } from "./revocations.ts";
import {
  csrfTokenMatches,
  csrfTokenOf,
  decodeSession,
  encodeSession,
  newSession,
  SESSION_TTL_SECONDS,
  type SessionClaims,
} from "./session.ts";

const log = createLogger({ component: "producer" });

export type ConsoleRole = "admin" | "metrics";

export interface ConsoleSession {
  readonly claims: SessionClaims;
  readonly principal: Principal;
  readonly role: ConsoleRole;
}

/** The console role of a key: admin, metrics-only (read-only), or none (may not sign in). */
export function consoleRole(principal: Principal): ConsoleRole | undefined {
  if (principal.admin) return "admin";
  if (principal.scopes.includes(METRICS_SCOPE)) return "metrics";
  return undefined;
}

export function cookieName(config: ProducerConfig): string {
  return config.environment === "development" ? "edgebus_console" : "__Host-edgebus_console";
}

function cookieHeader(config: ProducerConfig, value: string, maxAge: number): string {
  const secure = config.environment === "development" ? "" : "; Secure";
  return `${cookieName(config)}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

/** Development without `CONSOLE_SESSION_SECRET`: a random key for this isolate's life. */
let developmentSecret: string | undefined;

function sessionSecret(config: ProducerConfig): string {
  if (config.console.sessionSecret !== null) return config.console.sessionSecret;
  if (config.environment !== "development") {
    throw new EdgebusError(
      "upstream_unavailable",
      "the console needs CONSOLE_SESSION_SECRET (wrangler secret put CONSOLE_SESSION_SECRET)",
      { retryable: false },
    );
  }
  if (developmentSecret === undefined) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    developmentSecret = btoa(String.fromCharCode(...bytes));
    log.log("warn", "CONSOLE_SESSION_SECRET is not set: console sessions are signed with a key of this isolate only");
  }
  return developmentSecret;
}

const revocationsByConfig = new WeakMap<ProducerConfig, SessionRevocations>();
const developmentRevocations = new MemorySessionRevocations();

function revocationsOf(config: ProducerConfig): SessionRevocations {
  let revocations = revocationsByConfig.get(config);
  if (revocations === undefined) {
    if (config.redis !== null) {
      const redis = createProducerRedis({ ...config.redis, timeoutMs: config.redisTimeoutMs });
      revocations = new RedisSessionRevocations(redis, config.redisTimeoutMs);
    } else if (config.environment === "development") {
      revocations = developmentRevocations;
    } else {
      throw new EdgebusError(
        "upstream_unavailable",
        "console sign-out needs Redis (UPSTASH_REDIS_REST_URL) to end sessions in every isolate",
        { retryable: false },
      );
    }
    revocationsByConfig.set(config, revocations);
  }
  return revocations;
}

/** 403 when the request names another origin than the one it was sent to. */
function assertSameOrigin(c: Context<ProducerEnv>): void {
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== new URL(c.req.url).origin) {
    throw new EdgebusError("forbidden", "cross-origin console requests are refused");
  }
  if (c.req.header("sec-fetch-site") === "cross-site") {
    throw new EdgebusError("forbidden", "cross-site console requests are refused");
  }
}

/** What the console page needs to know about its session. */
async function describe(config: ProducerConfig, session: ConsoleSession) {
  return {
    signed_in: true as const,
    key_id: session.principal.id,
    role: session.role,
    may_see_personal_data: maySeePersonalData(session.principal),
    environment: config.environment,
    csrf_token: await csrfTokenOf(session.claims.sid, sessionSecret(config)),
    expires_at: new Date(session.claims.exp * 1000).toISOString(),
  };
}

/** The request's valid session, or undefined (no cookie, bad signature, expired, key gone, signed out). */
export async function currentSession(c: Context<ProducerEnv>): Promise<ConsoleSession | undefined> {
  const config = c.get("caps").config;
  const claims = await decodeSession(getCookie(c, cookieName(config)), sessionSecret(config));
  if (claims === undefined) return undefined;
  const principal = config.apiKeys.find((key) => key.id === claims.kid && key.hash.startsWith(claims.kh));
  const role = principal === undefined ? undefined : consoleRole(principal);
  if (principal === undefined || role === undefined) return undefined;
  if (await revocationsOf(config).isRevoked(claims.sid)) return undefined;
  return { claims, principal, role };
}

/**
 * The session of a console API request: 401 without one; for a state-changing method, 403
 * unless it carries the session's CSRF token and comes from this origin.
 */
export async function requireSession(c: Context<ProducerEnv>): Promise<ConsoleSession> {
  const session = await currentSession(c);
  if (session === undefined) throw new EdgebusError("unauthorized", "sign in to the console first");
  if (c.req.method !== "GET" && c.req.method !== "HEAD") {
    assertSameOrigin(c);
    const secret = sessionSecret(c.get("caps").config);
    if (!(await csrfTokenMatches(c.req.header("x-csrf-token"), session.claims.sid, secret))) {
      throw new EdgebusError("forbidden", "missing or wrong X-CSRF-Token");
    }
  }
  return session;
}

/** `GET /console/api/session`: the session, or `{signed_in: false}` (200 either way: the page asks on load). */
export async function sessionInfo(c: Context<ProducerEnv>): Promise<Response> {
  const session = await currentSession(c);
  c.header("Cache-Control", "no-store");
  if (session === undefined)
    return c.json({ signed_in: false as const, environment: c.get("caps").config.environment });
  return c.json(await describe(c.get("caps").config, session));
}

/** `POST /console/api/session` `{"api_key": "…"}`: a new session for an admin or metrics key. */
export async function signIn(c: Context<ProducerEnv>): Promise<Response> {
  assertSameOrigin(c);
  const config = c.get("caps").config;
  if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
    throw new EdgebusError("unsupported_media_type", 'send the API key as JSON: {"api_key": "…"}');
  }
  const text = await readBodyText(c.req.raw, 1024, "a sign-in request");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new EdgebusError("malformed_json", "the sign-in request is not JSON");
  }
  const key = (body as { api_key?: unknown } | null)?.api_key;
  if (typeof key !== "string" || key === "") {
    throw new EdgebusError("bad_request", "api_key is required", {
      details: { problems: [{ field: "api_key", message: "required" }] },
    });
  }
  const principal = await authenticate(`Bearer ${key}`, config.apiKeys);
  const role = consoleRole(principal);
  if (role === undefined) {
    throw new EdgebusError("forbidden", `API key ${principal.id} has neither the admin nor the metrics scope`);
  }
  const claims = newSession(principal.id, principal.hash);
  const secret = sessionSecret(config);
  revocationsOf(config); // outside development without Redis, refuse now rather than at sign-out
  c.header("Set-Cookie", cookieHeader(config, await encodeSession(claims, secret), SESSION_TTL_SECONDS));
  c.header("Cache-Control", "no-store");
  log.log("info", "console sign-in", { note: `key ${principal.id}` });
  return c.json(await describe(config, { claims, principal, role }));
}

/** `DELETE /console/api/session`: the session is revoked everywhere and the cookie cleared. */
export async function signOut(c: Context<ProducerEnv>): Promise<Response> {
  const session = await requireSession(c);
  const config = c.get("caps").config;
  await revocationsOf(config).revoke(session.claims.sid, session.claims.exp);
  c.header("Set-Cookie", cookieHeader(config, "", 0));
  c.header("Cache-Control", "no-store");
  log.log("info", "console sign-out", { note: `key ${session.principal.id}` });
  return c.body(null, 204);
}
