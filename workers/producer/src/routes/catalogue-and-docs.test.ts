import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import { createProducerApp } from "../app.ts";
import { renderOpenApi } from "../producer-routes.ts";
import {
  bearer,
  CE_BATCH,
  CE_JSON,
  mintKey,
  type ResponseJson,
  structuredEvent,
  testEnv,
} from "../producer-test-harness.ts";

const key = await mintKey();
const env = testEnv([key]);
const app = createProducerApp();

describe("catalogue, OpenAPI, docs, health and metrics", () => {
  it("GET /v1/schemas lists every catalogue type", async () => {
    const response = await app.request("/v1/schemas", {}, env);
    const body = (await response.json()) as { schemas: { type: string; topic: string; href: string }[] };
    expect(body.schemas.map((s) => s.type)).toEqual(governmentCatalogue.types());
    expect(body.schemas[0]).toMatchObject({ href: `/v1/schemas/${body.schemas[0]?.type}` });
  });

  it("GET /v1/schemas/{type} returns the JSON Schema with the example", async () => {
    const response = await app.request("/v1/schemas/gov.auth.citizen.created", {}, env);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/schema+json");
    const schema = (await response.json()) as ResponseJson;
    expect(schema).toMatchObject({
      type: "object",
      title: "gov.auth.citizen.created",
      "x-edgebus-topic": "gov.auth.citizen",
    });
    expect(schema.examples[0]).toEqual(governmentCatalogue.require("gov.auth.citizen.created").example);
  });

  it("GET /v1/schemas/{unknown} is 404 with close matches", async () => {
    const response = await app.request("/v1/schemas/gov.auth.citizen.creatd", {}, env);
    expect(response.status).toBe(404);
    const body = (await response.json()) as ResponseJson;
    expect(body.error.code).toBe("not_found");
    expect(body.error.details.did_you_mean).toContain("gov.auth.citizen.created");
  });

  it("GET /openapi.json is the rendered document and documents every route", async () => {
    const response = await app.request("/openapi.json", {}, env);
    const document = (await response.json()) as ResponseJson;
    expect(document).toEqual(JSON.parse(JSON.stringify(renderOpenApi(governmentCatalogue))));
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        "/docs",
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/metrics/consumers",
        "/openapi.json",
        "/v1/events",
        "/v1/events/batch",
        "/v1/schemas",
        "/v1/schemas/{type}",
        "/v1/dead-letters",
        "/v1/dead-letters/replay",
        "/v1/dead-letters/{id}",
        "/v1/dead-letters/{id}/replay",
        "/v1/replay",
        "/v1/replay/{id}",
        "/v1/citizens/{id}/push-subscriptions",
        "/v1/subscriptions",
        "/v1/subscriptions/{id}",
        "/v1/subscriptions/{id}/pause",
        "/v1/subscriptions/{id}/resume",
        "/v1/subscriptions/{id}/rotate-secret",
        "/v1/subscriptions/{id}/test",
        "/v1/subscriptions/{id}/deliveries",
        "/v1/subscriptions/{id}/deliveries/redrive",
      ].sort(),
    );
    for (const type of governmentCatalogue.types()) {
      expect(document.components.schemas[`data.${type}`], type).toMatchObject({ type: "object" });
    }
    expect(document.components.schemas.Receipt.properties.status.enum).toEqual(["accepted", "duplicate"]);
  });

  it("every $ref in the OpenAPI document resolves", async () => {
    const document = renderOpenApi(governmentCatalogue) as ResponseJson;
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of new Set(refs)) {
      const name = ref.slice('"$ref":"#/components/schemas/'.length, -1);
      expect(document.components.schemas[name], ref).toBeDefined();
    }
  });

  it("GET /docs is a self-contained page (no external resources)", async () => {
    const response = await app.request("/docs", {}, env);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).toContain("/openapi.json");
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']https?:/i);
  });

  it("GET /healthz reports the configured backends", async () => {
    const response = await app.request("/healthz", {}, env);
    expect(await response.json()).toEqual({
      status: "ok",
      environment: "development",
      dedup: "memory",
      rate_limit: "memory",
      kafka: false,
    });
  });

  it("GET /metrics counts requests, events and publish latency", async () => {
    const event = structuredEvent("gov.auth.citizen.created");
    await app.request(
      "/v1/events",
      { method: "POST", body: JSON.stringify(event), headers: { ...CE_JSON, ...bearer(key) } },
      env,
    );
    await app.request(
      "/v1/events",
      { method: "POST", body: JSON.stringify(event), headers: { ...CE_JSON, ...bearer(key) } },
      env,
    );
    await app.request("/v1/events", { method: "POST", body: "{", headers: { ...CE_JSON, ...bearer(key) } }, env);
    const response = await app.request("/metrics", {}, env);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toContain('edgebus_http_requests_total{method="POST",route="/v1/events",status="202"} 2');
    expect(text).toContain('edgebus_http_requests_total{method="POST",route="/v1/events",status="400"} 1');
    expect(text).toContain('edgebus_events_total{outcome="accepted",type="gov.auth.citizen.created"} 1');
    expect(text).toContain('edgebus_events_total{outcome="duplicate",type="gov.auth.citizen.created"} 1');
    expect(text).toMatch(/edgebus_publish_duration_seconds_count\{destination="queue",result="ok"\} 5/);
    expect(text).toContain("# TYPE edgebus_publish_duration_seconds histogram");
  });

  it("GET /metrics counts a batch's events per type and outcome", async () => {
    const batchApp = createProducerApp();
    const created = [structuredEvent("gov.auth.citizen.created"), structuredEvent("gov.auth.citizen.created")];
    const invalid = { ...structuredEvent("gov.auth.citizen.created"), data: {} };
    const batch = [...created, structuredEvent("gov.auth.citizen.deleted"), created[0], invalid];
    const answer = await batchApp.request(
      "/v1/events/batch",
      {
        method: "POST",
        body: JSON.stringify(batch),
        headers: { ...CE_BATCH, ...bearer(key) },
      },
      env,
    );
    expect(answer.status).toBe(200);
    const text = await (await batchApp.request("/metrics", {}, env)).text();
    expect(text).toContain('edgebus_events_total{outcome="accepted",type="gov.auth.citizen.created"} 2');
    expect(text).toContain('edgebus_events_total{outcome="accepted",type="gov.auth.citizen.deleted"} 1');
    expect(text).toContain('edgebus_events_total{outcome="duplicate",type="gov.auth.citizen.created"} 1');
    expect(text).toContain('edgebus_events_total{outcome="rejected",type="gov.auth.citizen.created"} 1');
  });
});

describe("OpenAPI artefact drift", () => {
  it("the committed schemas/generated/openapi.json is what the code serves (run `npm run generate` after API changes)", async () => {
    const committed = (await import("../../../../schemas/generated/openapi.json")).default;
    // The committed document is the one served with every shipped catalogue loaded.
    const everything = testEnv([key], { EDGEBUS_CATALOGUES: "gov,commerce,learning" });
    const served = await (await app.request("/openapi.json", {}, everything)).json();
    expect(served).toEqual(committed);
  });
});
