/**
 * `/v1/subscriptions` inside workerd against the migrated test database: who may manage what
 * (admin: all, `subscriptions` scope: its own, others 403), the target checks at create and
 * change in production mode (every literal notation of a private address, http, credentials),
 * the secret shown once, and the publish path writing outbox rows reduced to the subscription's
 * fields — the applicant's email and phone never stored for it — as soon as the subscription
 * exists (the isolate that created it drops its cached list).
 */
import { env as workerEnv } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { openDatabase } from "#shared/db/client.ts";
import { createProducerApp } from "../app.ts";
import { bearer, CE_JSON, mintKey, structuredEvent, testEnv } from "../producer-test-harness.ts";

const available = inject("postgresAvailable");
const admin = await mintKey({ id: "subs-admin", sources: [], types: [], admin: true });
const owner = await mintKey({ id: "permits-app", sources: [], types: [], scopes: ["subscriptions"] });
const other = await mintKey({ id: "revenue-app", sources: [], types: [], scopes: ["subscriptions"] });
const publisher = await mintKey({ id: "subs-publisher" });
const app = createProducerApp();
const development = testEnv([admin, owner, other, publisher], { ENVIRONMENT: "development" });
const production = testEnv([admin, owner, other, publisher], { ENVIRONMENT: "production" });
const sql = () => openDatabase((workerEnv as unknown as { HYPERDRIVE: Hyperdrive }).HYPERDRIVE.connectionString);

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are read field by field and asserted
type Json = Record<string, any>;

async function call(method: string, path: string, key: typeof admin | undefined, body?: unknown, env = production) {
  const response = await app.request(
    path,
    {
      method,
      headers: {
        ...(key ? bearer(key) : {}),
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    },
    env,
  );
  const text = await response.text();
  return { status: response.status, json: (text === "" ? {} : JSON.parse(text)) as Json };
}

const FILTER = { type: ["gov.permits.application.approved"], data: { permit_type: ["demolition"] } };

describe.skipIf(!available)("/v1/subscriptions", () => {
  it("refuses targets that are not https or point at private, loopback, link-local or metadata addresses", async () => {
    const refused = [
      "http://hooks.example.gov/x",
      "https://user:pw@hooks.example.gov/x",
      "https://127.0.0.1/x",
      "https://2130706433/x",
      "https://0x7f.1/x",
      "https://0177.0.0.1/x",
      "https://127.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://0xa9fea9fe/x",
      "https://10.1/x",
      "https://[::1]/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://[::ffff:a9fe:a9fe]/x",
      "https://[fd00:ec2::254]/x",
      "https://[fe80::1]/x",
      "https://localhost/x",
      "https://metadata.google.internal/x",
    ];
    for (const url of refused) {
      const answer = await call("POST", "/v1/subscriptions", owner, { url, filter: FILTER });
      expect(answer.status, url).toBe(400);
      expect(answer.json.error.details.problems[0].field, url).toBe("url");
    }
    const created = await call("POST", "/v1/subscriptions", owner, {
      url: "https://hooks.example.gov/x",
      filter: FILTER,
    });
    expect(created.status).toBe(201);
    const changed = await call("PATCH", `/v1/subscriptions/${created.json.id}`, owner, {
      url: "https://[::ffff:10.0.0.1]/",
    });
    expect(changed.status).toBe(400);
    expect((await call("DELETE", `/v1/subscriptions/${created.json.id}`, owner)).status).toBe(204);
  });

  it("refuses WEBHOOK_ALLOW_PRIVATE_TARGETS outside development", async () => {
    const answer = await call("GET", "/v1/subscriptions", admin, undefined, {
      ...production,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
    });
    expect(answer.status).toBe(500);
    expect(answer.json.error.message).toContain("WEBHOOK_ALLOW_PRIVATE_TARGETS");
  });

  it("shows the secret once; a subscriptions key manages only its own; a key without the scope nothing", async () => {
    const created = await call("POST", "/v1/subscriptions", owner, {
      url: "https://permits.example.gov/hooks",
      filter: FILTER,
      description: "approved demolitions",
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ owner_key_id: "permits-app", status: "active", fields: null });
    expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = created.json.id as string;

    const shown = await call("GET", `/v1/subscriptions/${id}`, owner);
    expect(shown.status).toBe(200);
    expect(shown.json).not.toHaveProperty("secret");
    expect((await call("GET", `/v1/subscriptions/${id}`, other)).status).toBe(404);
    expect((await call("DELETE", `/v1/subscriptions/${id}`, other)).status).toBe(404);
    expect((await call("GET", "/v1/subscriptions", other)).json.subscriptions).toEqual([]);
    expect((await call("GET", `/v1/subscriptions/${id}`, admin)).status).toBe(200);
    const denied = await call("GET", "/v1/subscriptions", publisher);
    expect(denied.status).toBe(403);
    expect(denied.json.error.message).toBe("API key subs-publisher lacks the subscriptions scope");

    const paused = await call("POST", `/v1/subscriptions/${id}/pause`, owner);
    expect(paused.json.status).toBe("paused");
    const rotated = await call("POST", `/v1/subscriptions/${id}/rotate-secret`, owner);
    expect(rotated.json.secret).not.toBe(created.json.secret);
    expect(Date.parse(rotated.json.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect((await call("DELETE", `/v1/subscriptions/${id}`, owner)).status).toBe(204);
    expect((await call("GET", `/v1/subscriptions/${id}`, admin)).status).toBe(404);
  });

  it("validates the filter and the fields", async () => {
    const bad = [
      { url: "https://a.example.gov/", filter: {} },
      { url: "https://a.example.gov/", filter: { type: "not-an-array" } },
      { url: "https://a.example.gov/", filter: { type: [{ regex: ".*" }] } },
      { url: "https://a.example.gov/", filter: FILTER, fields: ["data.$where"] },
      { url: "https://a.example.gov/", filter: FILTER, extra: true },
    ];
    for (const body of bad)
      expect((await call("POST", "/v1/subscriptions", owner, body)).status, JSON.stringify(body)).toBe(400);
  });

  it("a published matching event becomes an outbox row with only the selected fields", async () => {
    const created = await call(
      "POST",
      "/v1/subscriptions",
      admin,
      {
        url: "http://127.0.0.1:9/hook",
        filter: FILTER,
        fields: ["data.application_id", "data.permit_number"],
      },
      { ...development, WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" },
    );
    expect(created.status).toBe(201);
    const matching = structuredEvent("gov.permits.application.approved", { source: "/services/permits" });
    matching.data = { ...(matching.data as Json), permit_type: "demolition" };
    const other = structuredEvent("gov.permits.application.approved", { source: "/services/permits" });
    for (const event of [matching, other]) {
      const published = await app.request(
        "/v1/events",
        { method: "POST", headers: { ...bearer(publisher), ...CE_JSON }, body: JSON.stringify(event) },
        development,
      );
      expect(published.status).toBe(202);
    }
    const db = sql();
    const rows = await db<{ event_id: string; body: string; message_id: string }[]>`
      select event_id, body, message_id from edgebus.webhook_deliveries where subscription_id = ${created.json.id}`;
    expect(rows.map((row) => row.event_id)).toEqual([matching.id]);
    const body = JSON.parse(rows[0]?.body ?? "{}") as Json;
    expect(body.data).toEqual({
      application_id: (matching.data as Json).application_id,
      permit_number: (matching.data as Json).permit_number,
    });
    expect(rows[0]?.body).not.toContain((matching.data as Json).applicant.email);
    expect(rows[0]?.body).not.toContain((matching.data as Json).applicant.phone);
    expect(rows[0]?.message_id).toMatch(/^msg_[0-9a-f]{32}$/);
    const history = await call("GET", `/v1/subscriptions/${created.json.id}/deliveries`, admin, undefined, development);
    expect(history.json.deliveries).toMatchObject([{ status: "pending", event: { id: matching.id }, attempts: [] }]);
    await call("DELETE", `/v1/subscriptions/${created.json.id}`, admin, undefined, development);
  });
});
