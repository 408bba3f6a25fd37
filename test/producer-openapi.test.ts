/**
 * The producer's OpenAPI document checked by a stock JSON Schema 2020-12 validator (ajv), as a
 * client generator would read it: every component compiles, the documented request schemas
 * accept what the producer accepts (catalogue examples in structured mode, the legacy envelope,
 * batches) and reject what it rejects, and the documented response schemas accept the shapes
 * the handlers are typed with.
 */
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../schemas/index.ts";
import { renderOpenApi } from "../workers/producer/src/openapi.ts";

// biome-ignore lint/suspicious/noExplicitAny: the document is walked by path; ajv checks the shapes
type Json = Record<string, any>;
const document = renderOpenApi(governmentCatalogue) as Json;

function validatorFor(schema: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // Resolve `#/components/schemas/*` against the document itself.
  ajv.addSchema({ $id: "openapi", components: document.components }, "openapi");
  const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
  return ajv.compile(rewritten);
}

const publishBody = document.paths["/v1/events"].post.requestBody.content;
const structured = validatorFor(publishBody["application/cloudevents+json"].schema);
const json = validatorFor(publishBody["application/json"].schema);
const batch = validatorFor(
  document.paths["/v1/events/batch"].post.requestBody.content["application/cloudevents-batch+json"].schema,
);
const receipt = validatorFor({ $ref: "#/components/schemas/Receipt" });
const errorBody = validatorFor({ $ref: "#/components/schemas/Error" });
const batchResponse = validatorFor({ $ref: "#/components/schemas/BatchResponse" });

function event(type: string, overrides: Json = {}): Json {
  const definition = governmentCatalogue.require(type);
  return {
    specversion: "1.0",
    id: "e-1",
    source: "/services/test",
    type,
    ...(definition.requiresEventVersion ? { eventversion: 1 } : {}),
    data: definition.example,
    ...overrides,
  };
}

describe("producer OpenAPI document under a JSON Schema 2020-12 validator", () => {
  it("documents a valid structured event of every catalogue type", () => {
    for (const type of governmentCatalogue.types()) {
      expect(structured(event(type)), `${type}: ${JSON.stringify(structured.errors)}`).toBe(true);
    }
    expect(structured(publishBody["application/cloudevents+json"].example)).toBe(true);
  });

  it("rejects what the producer rejects", () => {
    expect(structured(event("gov.auth.citizen.created", { specversion: "0.3" }))).toBe(false);
    expect(structured(event("gov.auth.citizen.created", { eventversion: 0 }))).toBe(false);
    expect(structured(event("gov.auth.citizen.created", { eventversion: undefined }))).toBe(false);
    expect(structured(event("gov.auth.role.granted", { eventversion: undefined }))).toBe(true);
    expect(structured(event("gov.auth.citizen.created", { traceparent: "nope" }))).toBe(false);
    expect(structured(event("gov.auth.citizen.created", { type: "gov.auth.citizen.creatd" }))).toBe(false);
    expect(structured(event("gov.auth.citizen.created", { data: { id: "not-a-number" } }))).toBe(false);
  });

  it("documents the legacy envelope and batches", () => {
    const legacy = {
      event_id: "L-1",
      event_type: "gov.auth.citizen.created",
      event_version: 2,
      timestamp: "2026-11-01T10:00:00Z",
      source: { service: "identity", instance: "identity-1" },
      data: {},
    };
    expect(json(legacy), JSON.stringify(json.errors)).toBe(true);
    const types = governmentCatalogue.types();
    expect(batch(types.map((type) => event(type)))).toBe(true);
    expect(batch([])).toBe(false);
    expect(batch(Array.from({ length: 101 }, () => event("gov.auth.citizen.created")))).toBe(false);
  });

  it("documents the response shapes", () => {
    const okReceipt = {
      id: "e-1",
      type: "gov.auth.citizen.created",
      status: "accepted",
      kafka: { topic: "gov.auth.citizen", partition: 0, offset: 4 },
      queues: ["archive", "kafka-mirror"],
    };
    expect(receipt(okReceipt), JSON.stringify(receipt.errors)).toBe(true);
    expect(receipt({ ...okReceipt, kafka: null })).toBe(true);
    expect(receipt({ ...okReceipt, status: "queued" })).toBe(false);
    expect(receipt({ ...okReceipt, queues: ["nowhere"] })).toBe(false);
    const error = { error: { code: "rate_limited", message: "slow down", request_id: "r-1", details: { limit: 5 } } };
    expect(errorBody(error), JSON.stringify(errorBody.errors)).toBe(true);
    expect(errorBody({ error: { ...error.error, code: "teapot" } })).toBe(false);
    expect(
      batchResponse({
        results: [
          { index: 0, status: 202, receipt: okReceipt },
          { index: 1, status: 422, error: error.error },
        ],
        accepted: 1,
        duplicate: 0,
        rejected: 1,
      }),
      JSON.stringify(batchResponse.errors),
    ).toBe(true);
  });
});
