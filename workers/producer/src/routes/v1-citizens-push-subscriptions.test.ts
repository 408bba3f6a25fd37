/**
 * `POST`/`DELETE /v1/citizens/{id}/push-subscriptions` inside workerd against Postgres: only a key
 * with `notify:push-subscriptions` (or admin) may call them, keys are checked, an endpoint
 * registered again moves (200), outside development the endpoint must be https on a public name.
 */
import { env as workerEnv } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { openDatabase } from "#shared/db/client.ts";
import { createProducerApp } from "../app.ts";
import { bearer, mintKey, testEnv } from "../producer-test-harness.ts";

const available = inject("postgresAvailable");
const citizenApp = await mintKey({ id: "citizen-app", sources: [], types: [], scopes: ["notify:push-subscriptions"] });
const publisher = await mintKey({ id: "permits-publisher" });
const app = createProducerApp();
const env = testEnv([citizenApp, publisher], { ENVIRONMENT: "development" });
const sql = () => openDatabase((workerEnv as unknown as { HYPERDRIVE: Hyperdrive }).HYPERDRIVE.connectionString);

// A real browser-shaped subscription: a fresh P-256 public key and a 16-octet auth secret.
async function browserKeys() {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
    "deriveBits",
  ])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const b64 = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  return { p256dh: b64(raw), auth: b64(crypto.getRandomValues(new Uint8Array(16))) };
}

function post(citizen: number, body: unknown, key = citizenApp, environment = env) {
  return app.request(
    `/v1/citizens/${citizen}/push-subscriptions`,
    { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json", ...bearer(key) } },
    environment,
  );
}

describe.skipIf(!available)("citizens' push subscriptions", () => {
  it("registers, re-registers (moving the endpoint), and removes a subscription", async () => {
    const endpoint = `https://push.example.net/wpush/v2/${crypto.randomUUID()}`;
    const keys = await browserKeys();
    const created = await post(910001, { endpoint, expirationTime: null, keys });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ citizen_id: 910001, endpoint, expires_at: null });

    const moved = await post(910002, { endpoint, expirationTime: 1_900_000_000_000, keys });
    expect(moved.status).toBe(200);
    const db = sql();
    const rows = await db`select citizen_id::int as citizen_id, p256dh, auth, registered_by, expires_at
      from edgebus.push_subscriptions where endpoint = ${endpoint}`;
    expect(rows).toEqual([
      {
        citizen_id: 910002,
        p256dh: keys.p256dh,
        auth: keys.auth,
        registered_by: "citizen-app",
        expires_at: new Date(1_900_000_000_000),
      },
    ]);

    const url = (citizen: number) =>
      `/v1/citizens/${citizen}/push-subscriptions?endpoint=${encodeURIComponent(endpoint)}`;
    // Only the citizen it belongs to now.
    expect((await app.request(url(910001), { method: "DELETE", headers: bearer(citizenApp) }, env)).status).toBe(404);
    expect((await app.request(url(910002), { method: "DELETE", headers: bearer(citizenApp) }, env)).status).toBe(204);
    expect((await app.request(url(910002), { method: "DELETE", headers: bearer(citizenApp) }, env)).status).toBe(404);
    expect(await db`select 1 from edgebus.push_subscriptions where endpoint = ${endpoint}`).toHaveLength(0);
  });

  it("refuses keys without the scope (403), no key (401), and malformed keys (400, naming the field)", async () => {
    const body = { endpoint: "https://push.example.net/x", keys: await browserKeys() };
    expect((await post(910003, body, publisher)).status).toBe(403);
    const anonymous = await app.request(
      "/v1/citizens/910003/push-subscriptions",
      { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } },
      env,
    );
    expect(anonymous.status).toBe(401);
    const deleteWithoutScope = await app.request(
      "/v1/citizens/910003/push-subscriptions?endpoint=https%3A%2F%2Fpush.example.net%2Fx",
      { method: "DELETE", headers: bearer(publisher) },
      env,
    );
    expect(deleteWithoutScope.status).toBe(403);
    for (const bad of ["", "not-a-url", "https://push.example.net/%00x\u0000"]) {
      const response = await app.request(
        `/v1/citizens/910003/push-subscriptions?endpoint=${encodeURIComponent(bad)}`,
        { method: "DELETE", headers: bearer(citizenApp) },
        env,
      );
      expect(response.status, bad).toBe(400);
    }

    const shortKey = await post(910003, { ...body, keys: { ...body.keys, p256dh: body.keys.p256dh.slice(0, 40) } });
    expect(shortKey.status).toBe(400);
    expect(JSON.stringify(await shortKey.json())).toContain("keys.p256dh");
    const badAuth = await post(910003, { ...body, keys: { ...body.keys, auth: "AAAA" } });
    expect(badAuth.status).toBe(400);
    expect((await post(910003, { ...body, extra: 1 })).status).toBe(400);
    expect((await post(0, body)).status).toBe(404);
  });

  it("outside development: only https endpoints on public host names", async () => {
    const production = testEnv([citizenApp], { ENVIRONMENT: "staging" });
    const keys = await browserKeys();
    for (const endpoint of [
      "http://push.example.net/x",
      "https://127.0.0.1/x",
      "https://localhost/x",
      "https://intranet/x",
    ]) {
      const response = await post(910004, { endpoint, keys }, citizenApp, production);
      expect(response.status, endpoint).toBe(400);
    }
  });
});
