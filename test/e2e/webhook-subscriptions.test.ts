/**
 * Run-time webhook subscriptions end to end on the real stack (`npm run dev`: the producer, the
 * webhooks Worker and the others in one `wrangler dev`, Postgres in a database of this suite),
 * with a local receiver that verifies every Standard Webhooks signature with the secrets the API
 * showed (its own HMAC code, not edgebus's signer):
 *
 * 1. a filter on type and a data field: exactly the matching events arrive, in order, and the
 *    subscription's field selection keeps the applicant's email and phone from ever reaching it;
 * 2. pause holds the backlog (nothing arrives, the history shows it pending), resume delivers it
 *    in order of arrival;
 * 3. the receiver answers 500, then 200: delivered once, two attempts in the history, the same
 *    webhook-id on both;
 * 4. 410 Gone disables the subscription;
 * 5. after a secret rotation each delivery carries two signatures, and the old and the new secret
 *    each verify it on their own;
 * 6. a redirect is not followed;
 * 7. a `subscriptions` key manages only its own subscriptions, a key without the scope none;
 * 8. the CLI lists subscriptions and deliveries as tables.
 *
 * Needs Postgres (fails under CI=true without it). Ports 18761–18763.
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../schemas/index.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { generateApiKey, hashApiKey } from "../../workers/producer/src/auth/key-hash.ts";
import { requireService } from "../support/services.ts";
import { eventually, stackApi, stackCli, useDevStack } from "./dev-stack-process.ts";

const available = await requireService("postgres", "test/e2e/webhook-subscriptions");
const run = crypto.randomUUID().slice(0, 8);
const databaseName = `edgebus_e2e_webhooks_${run}`;
const publisherKey = generateApiKey();
const subscriberKey = generateApiKey();
/** Deliveries take a second or two each, retries 2 s: a test's whole story fits well within this. */
const TEST_TIMEOUT_MS = 90_000;

// biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field and asserted
type Json = Record<string, any>;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

let dev: ReturnType<typeof useDevStack>;
let admin: postgres.Sql;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** Per receiver path: the statuses to answer, in turn (then 200). */
const scripted = new Map<string, number[]>();

function databaseUrl(name: string): string {
  const url = new URL(serviceUrls.postgres);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The signatures of `webhook-signature` that `secret` verifies (Standard Webhooks, by hand). */
function verifies(message: Received, secret: string): boolean {
  const id = String(message.headers["webhook-id"]);
  const timestamp = String(message.headers["webhook-timestamp"]);
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${message.body}`).digest();
  return String(message.headers["webhook-signature"] ?? "")
    .split(" ")
    .some((entry) => {
      const [version, signature] = entry.split(",");
      if (version !== "v1" || signature === undefined) return false;
      const given = Buffer.from(signature, "base64");
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

function at(route: string): Received[] {
  return received.filter((message) => message.path === route);
}

function api(method: string, route: string, body?: unknown, key?: string) {
  return stackApi(dev.stack.info, method, route, body, key);
}

function event(type: string, data: Json): Json {
  return { specversion: "1.0", id: crypto.randomUUID(), source: "/services/permits", type, data };
}

function approved(permitType: string, applicationId: string): Json {
  const example = governmentCatalogue.require("gov.permits.application.approved").example as Json;
  return event("gov.permits.application.approved", {
    ...example,
    application_id: applicationId,
    permit_type: permitType,
  });
}

async function publish(events: Json[]): Promise<void> {
  const response = await fetch(`${dev.stack.info.producer}/v1/events/batch`, {
    method: "POST",
    headers: { Authorization: `Bearer ${dev.stack.info.apiKey}`, "Content-Type": "application/cloudevents-batch+json" },
    body: JSON.stringify(events),
  });
  const body = (await response.json()) as Json;
  expect(response.status, JSON.stringify(body).slice(0, 500)).toBe(200);
  for (const result of body.results ?? body) expect(result.status, JSON.stringify(result)).toBe(202);
}

async function subscribe(route: string, filter: Json, extra: Json = {}): Promise<Json> {
  const created = await api("POST", "/v1/subscriptions", {
    url: `${receiverUrl}${route}`,
    filter,
    description: `e2e ${route}`,
    ...extra,
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  expect(created.json.secret).toMatch(/^whsec_/);
  return created.json;
}

function cli(args: string[]) {
  return stackCli(dev.stack.info, args);
}

describe.skipIf(!available)("webhook subscriptions on the real stack", () => {
  beforeAll(async () => {
    admin = postgres(serviceUrls.postgres, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${databaseName}`);
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const route = request.url ?? "";
        if (route === "/f") {
          received.push({
            path: route,
            headers: request.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            answered: 302,
          });
          response.writeHead(302, { location: `${receiverUrl}/a` }).end();
          return;
        }
        const status = scripted.get(route)?.shift() ?? 200;
        received.push({
          path: route,
          headers: request.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          answered: status,
        });
        response.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : `status ${status}`);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
    await admin?.unsafe(`drop database if exists ${databaseName} with (force)`).catch(() => {});
    await admin?.end({ timeout: 5 });
  }, 60_000);

  dev = useDevStack(async () => ({
    port: 18761,
    bridgePort: 18762,
    providerPort: 18763,
    env: {
      DATABASE_URL: databaseUrl(databaseName),
      // Retries 2 s apart, so the 500-then-200 case takes seconds, not the production schedule's minutes.
      WEBHOOK_RETRY_SCHEDULE: "2,2,2",
      EDGEBUS_DEV_EXTRA_API_KEYS: JSON.stringify([
        { id: "publisher", hash: await hashApiKey(publisherKey), sources: ["**"], types: ["**"] },
        { id: "permits-app", hash: await hashApiKey(subscriberKey), scopes: ["subscriptions"] },
      ]),
    },
  }));

  it(
    "delivers exactly the matching events, in order, signed, with only the selected fields",
    async () => {
      const subscription = await subscribe(
        "/a",
        {
          type: ["gov.permits.application.approved"],
          data: { permit_type: ["renovation"], application_id: [{ prefix: "PA-2026-90000" }] },
        },
        { fields: ["data.application_id", "data.permit_number", "data.citizen_id"] },
      );
      const matching = [approved("renovation", "PA-2026-900001"), approved("renovation", "PA-2026-900003")];
      const others = [
        approved("demolition", "PA-2026-900002"),
        {
          ...event("gov.auth.citizen.created", governmentCatalogue.require("gov.auth.citizen.created").example as Json),
          eventversion: 1,
        },
      ];
      await publish([matching[0] as Json, others[0] as Json, others[1] as Json, matching[1] as Json]);

      const arrived = await eventually("both matching deliveries", async () =>
        at("/a").length >= 2 ? at("/a") : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(at("/a")).toHaveLength(2);
      const bodies = arrived.map((message) => JSON.parse(message.body) as Json);
      expect(bodies.map((body) => body.id)).toEqual(matching.map((e) => e.id));
      for (const message of arrived) {
        expect(verifies(message, subscription.secret)).toBe(true);
        expect(message.headers["content-type"]).toBe("application/cloudevents+json");
        // Data minimisation: the applicant's contact details never reach this subscriber.
        expect(message.body).not.toContain("amina@haddad.ie");
        expect(message.body).not.toContain("+35312345678");
        expect(message.body).not.toContain("applicant");
      }
      expect(bodies[0]).toEqual({
        specversion: "1.0",
        id: matching[0]?.id,
        source: "/services/permits",
        type: "gov.permits.application.approved",
        time: expect.any(String),
        data: { application_id: "PA-2026-900001", permit_number: "PRM-2026-004512", citizen_id: 104233 },
      });
      // Not even stored: the outbox holds the reduced body only.
      const db = postgres(databaseUrl(databaseName), { max: 1, onnotice: () => {} });
      const stored = await db`select body from edgebus.webhook_deliveries where subscription_id = ${subscription.id}`;
      await db.end();
      expect(stored.map((row) => row.body).join("")).not.toContain("amina@haddad.ie");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "pause holds the backlog, resume delivers it in order of arrival",
    async () => {
      const subscription = await subscribe("/b", {
        type: ["gov.permits.application.approved"],
        data: { permit_type: ["demolition"] },
      });
      expect((await api("POST", `/v1/subscriptions/${subscription.id}/pause`)).json.status).toBe("paused");
      const held = [
        approved("demolition", "PA-2026-900011"),
        approved("demolition", "PA-2026-900012"),
        approved("demolition", "PA-2026-900013"),
      ];
      for (const e of held) await publish([e]);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect(at("/b")).toHaveLength(0);
      const pending = await api("GET", `/v1/subscriptions/${subscription.id}/deliveries?status=pending`);
      expect(pending.json.deliveries).toHaveLength(3);

      expect((await api("POST", `/v1/subscriptions/${subscription.id}/resume`)).json.status).toBe("active");
      const arrived = await eventually("the held backlog", async () => (at("/b").length >= 3 ? at("/b") : undefined));
      expect(arrived.map((message) => (JSON.parse(message.body) as Json).id)).toEqual(held.map((e) => e.id));
      for (const message of arrived) expect(verifies(message, subscription.secret)).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "500 then 200: delivered once, two attempts in the history with one webhook-id",
    async () => {
      scripted.set("/c", [500]);
      const subscription = await subscribe("/c", {
        type: ["gov.permits.application.approved"],
        data: { application_id: ["PA-2026-900021"] },
      });
      await publish([approved("renovation", "PA-2026-900021")]);
      const history = await eventually("the delivery after a retry", async () => {
        const { json } = await api("GET", `/v1/subscriptions/${subscription.id}/deliveries`);
        const [delivery] = json.deliveries as Json[];
        return delivery?.status === "delivered" ? delivery : undefined;
      });
      expect(history.attempts).toHaveLength(2);
      expect(history.attempts[0]).toMatchObject({ status_code: 500, outcome: "retry" });
      expect(history.attempts[1]).toMatchObject({ status_code: 200, outcome: "delivered", response_snippet: "ok" });
      const requests = at("/c");
      expect(requests.map((message) => message.answered)).toEqual([500, 200]);
      expect(new Set(requests.map((message) => message.headers["webhook-id"])).size).toBe(1);
      expect(requests[0]?.headers["webhook-id"]).toBe(history.message_id);
      for (const message of requests) expect(verifies(message, subscription.secret)).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "410 Gone disables the subscription",
    async () => {
      scripted.set("/d", [410]);
      const subscription = await subscribe("/d", {
        type: ["gov.permits.application.approved"],
        data: { application_id: ["PA-2026-900031"] },
      });
      await publish([approved("renovation", "PA-2026-900031")]);
      const disabled = await eventually("the subscription disabled", async () => {
        const { json } = await api("GET", `/v1/subscriptions/${subscription.id}`);
        return json.status === "disabled" ? json : undefined;
      });
      expect(disabled.disabled_reason).toMatch(/^gone/);
      expect(at("/d")).toHaveLength(1);
      // Counted in the metrics: the disabled subscription by reason, the deliveries with the consumers.
      const scrape = await fetch(`${dev.stack.info.producer}/v1/metrics/consumers`, {
        headers: { Authorization: `Bearer ${dev.stack.info.apiKey}` },
      });
      const metrics = await scrape.text();
      expect(metrics).toContain('edgebus_webhook_subscriptions{status="disabled",reason="gone"} 1');
      const applied =
        /edgebus_consumer_messages_total\{consumer="webhooks",queue="webhooks",outcome="applied"\} (\d+)/.exec(metrics);
      expect(Number(applied?.[1])).toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "after a rotation the old and the new secret each verify, during the overlap",
    async () => {
      const subscription = await subscribe("/e", {
        type: ["gov.permits.application.approved"],
        data: { application_id: ["PA-2026-900041"] },
      });
      const rotated = await api("POST", `/v1/subscriptions/${subscription.id}/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect(rotated.json.secret).toMatch(/^whsec_/);
      expect(rotated.json.secret).not.toBe(subscription.secret);
      expect(rotated.json.previous_secret_expires_at).not.toBeNull();
      // The secret is never shown again.
      expect((await api("GET", `/v1/subscriptions/${subscription.id}`)).json).not.toHaveProperty("secret");

      await publish([approved("renovation", "PA-2026-900041")]);
      const tested = await api("POST", `/v1/subscriptions/${subscription.id}/test`);
      expect(tested.status).toBe(202);
      const arrived = await eventually("the event and the test delivery", async () =>
        at("/e").length >= 2 ? at("/e") : undefined,
      );
      for (const message of arrived) {
        expect(String(message.headers["webhook-signature"]).split(" ")).toHaveLength(2);
        expect(verifies(message, subscription.secret)).toBe(true);
        expect(verifies(message, rotated.json.secret)).toBe(true);
        expect(verifies(message, `whsec_${Buffer.alloc(32).toString("base64")}`)).toBe(false);
      }
      expect((JSON.parse(arrived[1]?.body ?? "{}") as Json).type).toBe("edgebus.subscription.test");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "does not follow a redirect",
    async () => {
      const subscription = await subscribe("/f", {
        type: ["gov.permits.application.approved"],
        data: { application_id: ["PA-2026-900051"] },
      });
      const before = at("/a").length;
      await publish([approved("renovation", "PA-2026-900051")]);
      const history = await eventually("a failed attempt", async () => {
        const { json } = await api("GET", `/v1/subscriptions/${subscription.id}/deliveries`);
        const [delivery] = json.deliveries as Json[];
        return delivery?.attempts?.length > 0 ? delivery : undefined;
      });
      expect(history.attempts[0]).toMatchObject({ status_code: 302, outcome: "retry" });
      expect(history.attempts[0].error).toContain("not followed");
      expect(at("/a")).toHaveLength(before);
      await api("DELETE", `/v1/subscriptions/${subscription.id}`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a subscriptions key manages only its own subscriptions; a key without the scope none",
    async () => {
      const own = await api(
        "POST",
        "/v1/subscriptions",
        { url: `${receiverUrl}/own`, filter: { type: ["gov.permits.application.rejected"] } },
        subscriberKey,
      );
      expect(own.status).toBe(201);
      expect(own.json.owner_key_id).toBe("permits-app");
      const listed = await api("GET", "/v1/subscriptions", undefined, subscriberKey);
      expect((listed.json.subscriptions as Json[]).map((s) => s.id)).toEqual([own.json.id]);
      const adminList = await api("GET", "/v1/subscriptions?limit=200");
      const someoneElses = (adminList.json.subscriptions as Json[]).find((s) => s.owner_key_id === "dev");
      expect(someoneElses).toBeDefined();
      expect((await api("GET", `/v1/subscriptions/${someoneElses?.id}`, undefined, subscriberKey)).status).toBe(404);
      expect((await api("POST", `/v1/subscriptions/${someoneElses?.id}/pause`, undefined, subscriberKey)).status).toBe(
        404,
      );
      expect((await api("GET", "/v1/subscriptions", undefined, publisherKey)).status).toBe(403);
      expect((await api("DELETE", `/v1/subscriptions/${own.json.id}`, undefined, subscriberKey)).status).toBe(204);
      const refused = await api("POST", "/v1/subscriptions", { url: "ftp://example.gov/x", filter: { type: ["x"] } });
      expect(refused.status).toBe(400);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "the CLI shows subscriptions and deliveries as tables",
    async () => {
      const list = await cli(["subscriptions", "list"]);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/ID\s+STATUS\s+URL/);
      expect(list.stdout).toContain("disabled");
      const { json } = await api("GET", "/v1/subscriptions?limit=200");
      const flaky = (json.subscriptions as Json[]).find((s) => s.url.endsWith("/c"));
      const deliveries = await cli(["subscriptions", "deliveries", flaky?.id]);
      expect(deliveries.code, deliveries.stderr).toBe(0);
      expect(deliveries.stdout).toMatch(/SEQ\s+STATUS/);
      expect(deliveries.stdout).toContain("delivered");
    },
    TEST_TIMEOUT_MS,
  );
});
