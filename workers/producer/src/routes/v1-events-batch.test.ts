import { describe, expect, it } from "vitest";
import { createProducerApp } from "../app.ts";
import { MemoryPublisher } from "../brokers/memory-publisher.ts";
import { bearer, CE_BATCH, mintKey, type ResponseJson, structuredEvent, testEnv } from "../producer-test-harness.ts";

const key = await mintKey({ sources: ["/services/*"], types: ["gov.auth.**", "gov.permits.**"] });
const env = testEnv([key]);
const app = createProducerApp();

async function postBatch(body: string, headers: Record<string, string> = { ...CE_BATCH, ...bearer(key) }) {
  const response = await app.request("/v1/events/batch", { method: "POST", body, headers }, env);
  return { response, json: (await response.json()) as ResponseJson };
}

describe("POST /v1/events/batch", () => {
  it("answers every item in request order with its own status", async () => {
    const good = structuredEvent("gov.auth.citizen.created");
    const badSchema = structuredEvent("gov.permits.application.submitted", { data: {} });
    const badEnvelope = { ...structuredEvent(), id: "" };
    const outOfScope = structuredEvent("gov.revenue.payment.completed");
    const unknownType = structuredEvent(undefined, { type: "gov.auth.citizen.creatd" });
    const good2 = structuredEvent("gov.permits.application.approved", { source: "/services/permits" });
    const { response, json } = await postBatch(
      JSON.stringify([good, badSchema, badEnvelope, outOfScope, unknownType, good2, good]),
    );
    expect(response.status).toBe(200);
    expect(json.results.map((r: { index: number; status: number }) => [r.index, r.status])).toEqual([
      [0, 202],
      [1, 422],
      [2, 400],
      [3, 403],
      [4, 422],
      [5, 202],
      [6, 202],
    ]);
    expect(json.results[0].receipt).toMatchObject({ id: good.id, status: "accepted" });
    expect(json.results[1].error.code).toBe("schema_validation_failed");
    expect(json.results[2].error.code).toBe("invalid_envelope");
    expect(json.results[4].error.details.did_you_mean).toContain("gov.auth.citizen.created");
    expect(json.results[5].receipt).toMatchObject({
      id: good2.id,
      queues: ["notifications", "kafka-mirror", "archive"],
    });
    // The same event twice in one batch: the later one waits for the first and is a duplicate.
    expect(json.results[6].receipt).toEqual({ ...json.results[0].receipt, status: "duplicate" });
    expect(json).toMatchObject({ accepted: 2, duplicate: 1, rejected: 4 });
  });

  it("publishes a batch with one call per destination, not per event", async () => {
    const queues = new MemoryPublisher();
    const kafka = new MemoryPublisher();
    const grouped = createProducerApp({ capabilities: () => ({ queues, kafka }) });
    const events = Array.from({ length: 100 }, () => structuredEvent("gov.auth.citizen.created"));
    const response = await grouped.request(
      "/v1/events/batch",
      { method: "POST", body: JSON.stringify(events), headers: { ...CE_BATCH, ...bearer(key) } },
      env,
    );
    const json = (await response.json()) as ResponseJson;
    expect(json.accepted).toBe(100);
    expect(queues.calls).toBe(5);
    expect(kafka.calls).toBe(1);
    expect(queues.messages("archive").map((m) => JSON.parse(m.value).id)).toEqual(events.map((e) => e.id));
    expect(json.results.map((r: { receipt: { kafka: { offset: number } } }) => r.receipt.kafka.offset)).toEqual(
      events.map((_, i) => i),
    );
  });

  it("refuses more than 100 events", async () => {
    const events = Array.from({ length: 101 }, () => structuredEvent());
    const { response, json } = await postBatch(JSON.stringify(events));
    expect(response.status).toBe(413);
    expect(json.error).toMatchObject({ code: "payload_too_large", details: { limit: 100, actual: 101 } });
  });

  it("refuses a body over 1 MB", async () => {
    const events = Array.from({ length: 10 }, () => structuredEvent(undefined, { padding: "x".repeat(110_000) }));
    const { response, json } = await postBatch(JSON.stringify(events));
    expect(response.status).toBe(413);
    expect(json.error.code).toBe("payload_too_large");
  });

  it("rejects an oversized event inside a batch on its own", async () => {
    const big = structuredEvent(undefined, { padding: "x".repeat(130_000) });
    const small = structuredEvent();
    const { json } = await postBatch(JSON.stringify([big, small]));
    expect(json.results.map((r: { status: number }) => r.status)).toEqual([413, 202]);
  });

  it.each<[string, string, Record<string, string>, number, string]>([
    [
      "structured content type",
      "[]",
      { "Content-Type": "application/cloudevents+json" },
      415,
      "unsupported_media_type",
    ],
    ["malformed JSON", "[{", { ...CE_BATCH }, 400, "malformed_json"],
    ["an object instead of an array", "{}", { ...CE_BATCH }, 400, "invalid_envelope"],
    ["an empty array", "[]", { ...CE_BATCH }, 400, "invalid_envelope"],
  ])("refuses %s", async (_, body, headers, status, code) => {
    const { response, json } = await postBatch(body, { ...headers, ...bearer(key) });
    expect(response.status).toBe(status);
    expect(json.error.code).toBe(code);
  });

  it("needs a key for the whole batch", async () => {
    const { response } = await postBatch(JSON.stringify([structuredEvent()]), { ...CE_BATCH });
    expect(response.status).toBe(401);
  });
});
