import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import { createProducerApp } from "../app.ts";
import { bearer, CE_JSON, mintKey, type ResponseJson, structuredEvent, testEnv } from "../producer-test-harness.ts";

const publisher = await mintKey({ sources: ["/services/*", "identity*"], types: ["gov.auth.**", "gov.permits.**"] });
const narrow = await mintKey({ sources: ["/services/permits"], types: ["gov.permits.**"] });
const env = testEnv([publisher, narrow]);
const app = createProducerApp();

async function post(body: string, headers: Record<string, string>) {
  const response = await app.request("/v1/events", { method: "POST", body, headers }, env);
  return { response, json: (await response.json()) as ResponseJson };
}

describe("POST /v1/events", () => {
  it("accepts a structured-mode event and routes it", async () => {
    const event = structuredEvent("gov.auth.citizen.created");
    const { response, json } = await post(JSON.stringify(event), { ...CE_JSON, ...bearer(publisher) });
    expect(response.status).toBe(202);
    expect(json).toEqual({
      id: event.id,
      type: "gov.auth.citizen.created",
      status: "accepted",
      kafka: null,
      queues: ["permits-citizen-sync", "revenue-citizen-sync", "notifications", "kafka-mirror", "archive"],
    });
    expect(response.headers.get("x-request-id")).toMatch(/.+/);
  });

  it("answers duplicate for the same source + id and publishes nothing again", async () => {
    const event = structuredEvent("gov.permits.application.submitted", { source: "/services/permits" });
    const first = await post(JSON.stringify(event), { ...CE_JSON, ...bearer(publisher) });
    const second = await post(JSON.stringify(event), { ...CE_JSON, ...bearer(publisher) });
    expect(first.json.status).toBe("accepted");
    expect(second.response.status).toBe(202);
    expect(second.json).toEqual({ ...first.json, status: "duplicate" });
    const otherSource = await post(JSON.stringify({ ...event, source: "/services/permits-2" }), {
      ...CE_JSON,
      ...bearer(publisher),
    });
    expect(otherSource.json.status).toBe("accepted");
  });

  it("accepts binary mode with percent-encoded ce-* headers", async () => {
    const id = crypto.randomUUID();
    const { response, json } = await post(
      JSON.stringify(governmentCatalogue.require("gov.auth.citizen.updated").example),
      {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": id,
        "ce-source": "/services/identity",
        "ce-type": "gov.auth.citizen.updated",
        "ce-eventversion": "7",
        "ce-correlationid": "caf%C3%A9-42",
        "ce-traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ...bearer(publisher),
      },
    );
    expect(response.status).toBe(202);
    expect(json).toMatchObject({
      id,
      status: "accepted",
      queues: ["permits-citizen-sync", "revenue-citizen-sync", "kafka-mirror", "archive"],
    });
  });

  it("accepts the legacy envelope", async () => {
    const id = crypto.randomUUID();
    const { response, json } = await post(
      JSON.stringify({
        event_id: id,
        event_type: "gov.auth.citizen.created",
        event_version: 1,
        timestamp: "2026-11-01T10:00:00Z",
        correlation_id: "corr-1",
        source: { service: "identity-service", instance: "identity-1", version: "2.4.1" },
        data: governmentCatalogue.require("gov.auth.citizen.created").example,
      }),
      { "Content-Type": "application/json", ...bearer(publisher) },
    );
    expect(response.status).toBe(202);
    expect(json).toMatchObject({ id, type: "gov.auth.citizen.created", status: "accepted" });
  });

  describe("citizen events without eventversion (read models order by it): 422 in every envelope mode", () => {
    const citizen = () => structuredClone(governmentCatalogue.require("gov.auth.citizen.verified").example);
    const expectVersionRequired = (status: number, error: ResponseJson, field: string) => {
      expect(status).toBe(422);
      expect(error.code).toBe("schema_validation_failed");
      expect(error.message).toContain("gov.auth.citizen.verified events need");
      expect(error.details.issues).toEqual([{ path: field, message: expect.stringContaining("positive integer") }]);
    };

    it("structured", async () => {
      const event = structuredEvent("gov.auth.citizen.verified", { eventversion: undefined });
      const { response, json } = await post(JSON.stringify(event), { ...CE_JSON, ...bearer(publisher) });
      expectVersionRequired(response.status, json.error, "eventversion");
    });

    it("binary (no ce-eventversion header)", async () => {
      const { response, json } = await post(JSON.stringify(citizen()), {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": crypto.randomUUID(),
        "ce-source": "/services/identity",
        "ce-type": "gov.auth.citizen.verified",
        ...bearer(publisher),
      });
      expectVersionRequired(response.status, json.error, "eventversion");
      expect(json.error.message).toContain("ce-eventversion");
    });

    it("legacy envelope (no event_version)", async () => {
      const { response, json } = await post(
        JSON.stringify({
          event_id: crypto.randomUUID(),
          event_type: "gov.auth.citizen.verified",
          source: "identity-service",
          data: citizen(),
        }),
        { "Content-Type": "application/json", ...bearer(publisher) },
      );
      expectVersionRequired(response.status, json.error, "event_version");
    });

    it("batch: only the versionless item fails", async () => {
      const versioned = structuredEvent("gov.auth.citizen.verified", { eventversion: 2 });
      const versionless = structuredEvent("gov.auth.citizen.verified", { eventversion: undefined });
      const response = await app.request(
        "/v1/events/batch",
        {
          method: "POST",
          body: JSON.stringify([versioned, versionless]),
          headers: { "Content-Type": "application/cloudevents-batch+json", ...bearer(publisher) },
        },
        env,
      );
      const json = (await response.json()) as ResponseJson;
      expect(response.status).toBe(200);
      expect(json.results[0]).toMatchObject({ index: 0, status: 202 });
      expect(json.results[1]).toMatchObject({ index: 1, status: 422 });
      expectVersionRequired(json.results[1].status, json.results[1].error, "eventversion");
    });
  });

  describe("rejections", () => {
    const auth = () => bearer(publisher);
    it.each<[string, () => [string, Record<string, string>], number, string]>([
      ["no content type", () => [JSON.stringify(structuredEvent()), auth()], 415, "unsupported_media_type"],
      ["text/plain", () => ["hello", { "Content-Type": "text/plain", ...auth() }], 415, "unsupported_media_type"],
      ["malformed JSON", () => ['{"specversion":', { ...CE_JSON, ...auth() }], 400, "malformed_json"],
      ["not an object", () => ["42", { ...CE_JSON, ...auth() }], 400, "invalid_envelope"],
      [
        "missing id",
        () => [JSON.stringify(structuredEvent(undefined, { id: undefined })), { ...CE_JSON, ...auth() }],
        400,
        "invalid_envelope",
      ],
      [
        "specversion 0.3",
        () => [JSON.stringify(structuredEvent(undefined, { specversion: "0.3" })), { ...CE_JSON, ...auth() }],
        400,
        "invalid_envelope",
      ],
      [
        "bad traceparent",
        () => [JSON.stringify(structuredEvent(undefined, { traceparent: "nope" })), { ...CE_JSON, ...auth() }],
        400,
        "invalid_envelope",
      ],
      [
        "eventversion 0",
        () => [JSON.stringify(structuredEvent(undefined, { eventversion: 0 })), { ...CE_JSON, ...auth() }],
        400,
        "invalid_envelope",
      ],
      [
        "unknown type",
        () => [
          JSON.stringify(structuredEvent(undefined, { type: "gov.auth.citizen.craeted" })),
          { ...CE_JSON, ...auth() },
        ],
        422,
        "unknown_event_type",
      ],
      [
        "schema failure",
        () => [JSON.stringify(structuredEvent(undefined, { data: { nope: true } })), { ...CE_JSON, ...auth() }],
        422,
        "schema_validation_failed",
      ],
      [
        "over 128 KB",
        () => [JSON.stringify(structuredEvent(undefined, { padding: "x".repeat(128_001) })), { ...CE_JSON, ...auth() }],
        413,
        "payload_too_large",
      ],
      ["no Authorization", () => [JSON.stringify(structuredEvent()), { ...CE_JSON }], 401, "unauthorized"],
      [
        "unknown key",
        () => [JSON.stringify(structuredEvent()), { ...CE_JSON, Authorization: "Bearer ebk_nope" }],
        401,
        "unauthorized",
      ],
      [
        "Basic auth",
        () => [JSON.stringify(structuredEvent()), { ...CE_JSON, Authorization: "Basic dXNlcjpwYXNz" }],
        401,
        "unauthorized",
      ],
      [
        "source out of scope",
        () => [JSON.stringify(structuredEvent(undefined, { source: "/elsewhere" })), { ...CE_JSON, ...auth() }],
        403,
        "forbidden",
      ],
      [
        "type out of scope",
        () => [JSON.stringify(structuredEvent("gov.revenue.payment.completed")), { ...CE_JSON, ...auth() }],
        403,
        "forbidden",
      ],
      [
        "narrow key, other source",
        () => [JSON.stringify(structuredEvent("gov.permits.application.submitted")), { ...CE_JSON, ...bearer(narrow) }],
        403,
        "forbidden",
      ],
    ])("%s → %i %s", async (_, make, status, code) => {
      const [body, headers] = make();
      const { response, json } = await post(body, headers);
      expect(response.status).toBe(status);
      expect(json.error.code).toBe(code);
      expect(json.error.message).toEqual(expect.any(String));
      expect(json.error.request_id).toBe(response.headers.get("x-request-id"));
    });

    it("lists the failing paths of a schema failure", async () => {
      const event = structuredEvent("gov.auth.citizen.created");
      delete (event.data as Record<string, unknown>).id;
      const { json } = await post(JSON.stringify(event), { ...CE_JSON, ...bearer(publisher) });
      expect(json.error.details.issues).toContainEqual(expect.objectContaining({ path: "data.id" }));
    });

    it("suggests close matches for an unknown type", async () => {
      const { json } = await post(JSON.stringify(structuredEvent(undefined, { type: "gov.auth.citizen.craeted" })), {
        ...CE_JSON,
        ...bearer(publisher),
      });
      expect(json.error.details.did_you_mean).toContain("gov.auth.citizen.created");
    });

    it("asks for a Bearer token on 401", async () => {
      const { response } = await post(JSON.stringify(structuredEvent()), { ...CE_JSON });
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    });
  });
});

describe("routing errors", () => {
  it("404 for an unknown route, in the error shape", async () => {
    const response = await app.request("/v2/nothing", {}, env);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("405 with Allow for a wrong method", async () => {
    const response = await app.request("/v1/events", { method: "GET" }, env);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await response.json()).toMatchObject({ error: { code: "method_not_allowed" } });
    const schemas = await app.request("/v1/schemas", { method: "DELETE" }, env);
    expect(schemas.status).toBe(405);
  });
});
