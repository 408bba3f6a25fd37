/**
 * Console sessions in workerd against the real Redis (through the bridge's Redis REST gateway the
 * global setup runs): sign-in with an admin, metrics or plain key; the cookie's attributes in
 * development and production; CSRF and cross-origin refusals; a tampered, foreign or expired
 * cookie; a key rotated away; sign-out revoking the session in every isolate (a second app
 * instance shares nothing but Redis); the metrics-only session being read-only and masked.
 */
import { describe, expect, inject, it } from "vitest";
import { createProducerApp } from "../app.ts";
import { parseProducerEnv } from "../env.ts";
import { mintKey, type ResponseJson, testEnv } from "../producer-test-harness.ts";
import { encodeSession, newSession } from "./session.ts";

const ORIGIN = "http://console.test";
const secret = "s".repeat(40);
const redis = { UPSTASH_REDIS_REST_URL: inject("redisRestUrl"), UPSTASH_REDIS_REST_TOKEN: inject("redisRestToken") };
const admin = await mintKey({ admin: true, scopes: ["notify:direct-contact"] });
const metrics = await mintKey({ scopes: ["metrics"], sources: [], types: [] });
const publisher = await mintKey();

function stack(extra: Record<string, unknown> = {}, keys = [admin, metrics, publisher]) {
  const app = createProducerApp();
  const env = testEnv(keys, { ...redis, UPSTASH_KAFKA_REST_URL: "", CONSOLE_SESSION_SECRET: secret, ...extra });
  return async (method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const response = await app.request(
      `${ORIGIN}${path}`,
      {
        method,
        headers: {
          ...(init.body === undefined ? {} : { "Content-Type": "application/json" }),
          ...init.headers,
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      },
      env,
    );
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: (text ? JSON.parse(text) : {}) as ResponseJson };
  };
}

async function signIn(call: ReturnType<typeof stack>, key: string) {
  const answer = await call("POST", "/console/api/session", { body: { api_key: key }, headers: { Origin: ORIGIN } });
  const setCookie = answer.headers.get("set-cookie") ?? "";
  return { ...answer, setCookie, cookie: setCookie.split(";")[0] ?? "" };
}

describe("console sessions", () => {
  it("signs an admin in with an HttpOnly, SameSite=Strict cookie (no Secure in development)", async () => {
    const call = stack();
    const { status, json, setCookie, cookie } = await signIn(call, admin.key);
    expect(status).toBe(200);
    expect(json).toMatchObject({ signed_in: true, key_id: admin.entry.id, role: "admin", may_see_personal_data: true });
    expect(setCookie).toMatch(/^edgebus_console=[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    const me = await call("GET", "/console/api/session", { headers: { Cookie: cookie } });
    expect(me.json).toMatchObject({ signed_in: true, key_id: admin.entry.id, csrf_token: json.csrf_token });
    expect((await call("GET", "/console/api/session")).json).toEqual({ signed_in: false, environment: "development" });
  });

  it("outside development the cookie is __Host- and Secure; without CONSOLE_SESSION_SECRET sign-in is refused", async () => {
    const production = stack({ ENVIRONMENT: "production" });
    const { setCookie } = await signIn(production, admin.key);
    expect(setCookie).toMatch(/^__Host-edgebus_console=.*; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800; Secure$/);
    const unset = await signIn(stack({ ENVIRONMENT: "production", CONSOLE_SESSION_SECRET: "" }), admin.key);
    expect(unset.status).toBe(503);
    expect(unset.json.error.message).toMatch(/CONSOLE_SESSION_SECRET/);
    const noRedis = await signIn(stack({ ENVIRONMENT: "production", UPSTASH_REDIS_REST_URL: "" }), admin.key);
    expect(noRedis.status).toBe(503);
  });

  it("refuses unknown keys, keys without admin or metrics, non-JSON and cross-origin sign-ins", async () => {
    const call = stack();
    expect((await signIn(call, "ebk_nope")).status).toBe(401);
    const plain = await signIn(call, publisher.key);
    expect(plain.status).toBe(403);
    expect(plain.setCookie).toBe("");
    const form = await call("POST", "/console/api/session", {
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN },
    });
    expect(form.status).toBe(415);
    const cross = await call("POST", "/console/api/session", {
      body: { api_key: admin.key },
      headers: { Origin: "https://evil.example" },
    });
    expect(cross.status).toBe(403);
    const large = await call("POST", "/console/api/session", {
      body: { api_key: "x".repeat(2000) },
      headers: { Origin: ORIGIN },
    });
    expect(large.status).toBe(413);
  });

  it("every state-changing request needs the session's CSRF token and this origin", async () => {
    const call = stack();
    const { cookie, json } = await signIn(call, admin.key);
    const body = { type: "gov.nothing.*", dry_run: true };
    const missing = await call("POST", "/console/api/v1/dead-letters/replay", { body, headers: { Cookie: cookie } });
    expect(missing.status).toBe(403);
    expect(missing.json.error.message).toMatch(/CSRF/);
    const wrong = await call("POST", "/console/api/v1/dead-letters/replay", {
      body,
      headers: { Cookie: cookie, "X-CSRF-Token": "AAAA" },
    });
    expect(wrong.status).toBe(403);
    const cross = await call("POST", "/console/api/v1/dead-letters/replay", {
      body,
      headers: { Cookie: cookie, "X-CSRF-Token": json.csrf_token, Origin: "https://evil.example" },
    });
    expect(cross.status).toBe(403);
    const ok = await call("POST", "/console/api/v1/dead-letters/replay", {
      body,
      headers: { Cookie: cookie, "X-CSRF-Token": json.csrf_token, Origin: ORIGIN },
    });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(ok.json).toMatchObject({ dry_run: true, matched: 0 });
    // Another session's token is not this one's.
    const other = await signIn(call, admin.key);
    const swapped = await call("DELETE", "/console/api/session", {
      headers: { Cookie: cookie, "X-CSRF-Token": other.json.csrf_token },
    });
    expect(swapped.status).toBe(403);
  });

  it("refuses a tampered, foreign-secret or expired cookie, and a session of a rotated key", async () => {
    const call = stack();
    const { cookie } = await signIn(call, admin.key);
    const [name, value] = cookie.split("=") as [string, string];
    const [claims, mac] = value.split(".") as [string, string];
    const forged = `${name}=${claims.slice(0, -2)}AA.${mac}`;
    expect((await call("GET", "/console/api/overview", { headers: { Cookie: forged } })).status).toBe(401);
    const foreign = await encodeSession(newSession(admin.entry.id, admin.entry.hash), "x".repeat(40));
    expect((await call("GET", "/console/api/overview", { headers: { Cookie: `${name}=${foreign}` } })).status).toBe(
      401,
    );
    const expired = await encodeSession(
      newSession(admin.entry.id, admin.entry.hash, Date.now() - 9 * 3600_000),
      secret,
    );
    expect((await call("GET", "/console/api/overview", { headers: { Cookie: `${name}=${expired}` } })).status).toBe(
      401,
    );
    // The same key id with a new key (rotation): the old session no longer matches its hash.
    const rotated = await mintKey({ id: admin.entry.id, admin: true });
    const afterRotation = stack({}, [rotated, metrics]);
    expect((await afterRotation("GET", "/console/api/overview", { headers: { Cookie: cookie } })).status).toBe(401);
  });

  it("sign-out revokes the session in Redis: another isolate refuses the old cookie too", async () => {
    const first = stack();
    const second = stack();
    const { cookie, json } = await signIn(first, admin.key);
    expect((await second("GET", "/console/api/overview", { headers: { Cookie: cookie } })).status).toBe(200);
    const out = await first("DELETE", "/console/api/session", {
      headers: { Cookie: cookie, "X-CSRF-Token": json.csrf_token, Origin: ORIGIN },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^edgebus_console=; .*Max-Age=0/);
    for (const call of [first, second]) {
      const refused = await call("GET", "/console/api/overview", { headers: { Cookie: cookie } });
      expect(refused.status).toBe(401);
      expect(refused.json.error.code).toBe("unauthorized");
    }
    expect((await second("GET", "/console/api/overview")).status).toBe(401);
  });

  it("a metrics-only session reads the overview and catalogue but may not act or see personal data", async () => {
    const call = stack();
    const { cookie, json } = await signIn(call, metrics.key);
    expect(json).toMatchObject({ role: "metrics", may_see_personal_data: false });
    const headers = { Cookie: cookie };
    expect((await call("GET", "/console/api/catalogue", { headers })).status).toBe(200);
    const list = await call("GET", "/console/api/v1/dead-letters", { headers });
    expect(list.status).toBe(403);
    const publish = await call("POST", "/console/api/v1/events", {
      body: {},
      headers: { ...headers, "X-CSRF-Token": json.csrf_token },
    });
    expect(publish.status).toBe(403);
  });

  it("lists each catalogue type with versions, JSON Schema, example and matched routes", async () => {
    const call = stack();
    const { cookie } = await signIn(call, admin.key);
    const { json } = await call("GET", "/console/api/catalogue", { headers: { Cookie: cookie } });
    const created = (json.types as ResponseJson[]).find((t) => t.type === "gov.auth.citizen.created");
    expect(created).toMatchObject({
      topic: "gov.auth.citizen",
      routes: { queues: expect.arrayContaining(["permits-citizen-sync", "revenue-citizen-sync", "archive"]) },
    });
    expect(created?.versions[0]).toMatchObject({ version: created?.version, json_schema: { type: "object" } });
    expect(created?.versions.length).toBeGreaterThan(1);
    expect(created?.example.data).toMatchObject({ id: expect.any(Number) });
    expect(json.publish_examples).toBe(true);
  });

  it("finds the bridge from the Kafka REST URL unless CONSOLE_BRIDGE_URL says otherwise; refuses a short secret", () => {
    const kafka = { UPSTASH_KAFKA_REST_USERNAME: "u", UPSTASH_KAFKA_REST_PASSWORD: "p" };
    const bridgeOf = (extra: Record<string, unknown>) => parseProducerEnv(testEnv([admin], extra)).console.bridgeUrl;
    expect(bridgeOf({ ...kafka, UPSTASH_KAFKA_REST_URL: "https://bridge.example.gov/kafka" })).toBe(
      "https://bridge.example.gov",
    );
    expect(bridgeOf({ ...kafka, UPSTASH_KAFKA_REST_URL: "https://gw.example.gov/edge/kafka/" })).toBe(
      "https://gw.example.gov/edge",
    );
    expect(bridgeOf({ ...kafka, UPSTASH_KAFKA_REST_URL: "https://kafka.example.gov/rest" })).toBeNull();
    expect(
      bridgeOf({
        ...kafka,
        UPSTASH_KAFKA_REST_URL: "https://bridge.example.gov/kafka",
        CONSOLE_BRIDGE_URL: "https://topics.example.gov/",
      }),
    ).toBe("https://topics.example.gov");
    expect(() => parseProducerEnv(testEnv([admin], { CONSOLE_SESSION_SECRET: "short" }))).toThrow(
      /CONSOLE_SESSION_SECRET: must be at least 32 characters/,
    );
  });
});
