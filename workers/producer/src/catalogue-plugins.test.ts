/**
 * The producer with several catalogues loaded (EDGEBUS_CATALOGUES): each catalogue's own
 * envelope, short names resolved by the publishing key's catalogue, the catalogue's topic and
 * partition key, its routes; and a setting that cannot load answered with the reason.
 */
import { describe, expect, it } from "vitest";
import { commerceCatalogue } from "../../../schemas/commerce/index.ts";
import { learningCatalogue } from "../../../schemas/learning/index.ts";
import { createProducerApp } from "./app.ts";
import { MemoryPublisher } from "./brokers/memory-publisher.ts";
import { bearer, type MintedKey, mintKey, type ResponseJson, testEnv } from "./producer-test-harness.ts";

const commerceKey = await mintKey({ types: ["commerce.**"] });
const learningKey = await mintKey({ types: ["learning.**"] });
const everyKey = await mintKey();
const keys = [commerceKey, learningKey, everyKey];
const env = testEnv(keys, { EDGEBUS_CATALOGUES: "gov,commerce,learning" });

const kafka = new MemoryPublisher();
const queues = new MemoryPublisher();
const app = createProducerApp({ capabilities: () => ({ queues, kafka }) });

async function publish(key: MintedKey, body: unknown, environment = env) {
  const response = await app.request(
    "/v1/events",
    { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json", ...bearer(key) } },
    environment,
  );
  return { status: response.status, json: (await response.json()) as ResponseJson };
}

const busEvent = (eventType: string, data: unknown, extra: Record<string, unknown> = {}) => ({
  eventId: crypto.randomUUID(),
  eventType,
  timestamp: "2026-11-02T09:14:20Z",
  source: "payment-service",
  version: "1.0",
  data,
  ...extra,
});

describe("EDGEBUS_CATALOGUES=gov,commerce,learning", () => {
  it("takes the bus envelope with a short name as the commerce key's type, on the commerce topic and key", async () => {
    const data = commerceCatalogue.require("commerce.payment.failed").example;
    const { status, json } = await publish(commerceKey, busEvent("payment.failed", data));
    expect(status, JSON.stringify(json)).toBe(202);
    expect(json).toMatchObject({
      type: "commerce.payment.failed",
      kafka: { topic: "order-events" },
      queues: ["kafka-mirror", "archive"],
    });
    const record = kafka.messages("order-events").find((message) => message.id.endsWith(json.id));
    expect(record?.key).toBe("ord_7Hq2LmX9pR4k");
  });

  it("takes the same short name from a learning key as the learning type, with the hub's metadata", async () => {
    const data = learningCatalogue.require("learning.payment.failed").example;
    const { source: _, ...withoutSource } = busEvent("payment.failed", data);
    const event = {
      ...withoutSource,
      metadata: { correlationId: "req_payment123", source: "payment-service", traceId: "trace_789" },
    };
    const { status, json } = await publish(learningKey, event);
    expect(status, JSON.stringify(json)).toBe(202);
    expect(json).toMatchObject({ type: "learning.payment.failed", kafka: { topic: "payment.failed" } });
    const [archived] = queues.messages("archive").filter((message) => message.value.includes(json.id));
    const record = JSON.parse(archived?.value ?? "{}") as Record<string, unknown>;
    expect(record).toMatchObject({
      source: "payment-service",
      correlationid: "req_payment123",
      traceid: "trace_789",
      schemaversion: "1.0",
      partitionkey: "pay_fai789",
    });
  });

  it("refuses a short name two of the key's catalogues define, naming both", async () => {
    const data = commerceCatalogue.require("commerce.payment.failed").example;
    const { status, json } = await publish(everyKey, busEvent("payment.failed", data));
    expect(status).toBe(422);
    expect(json.error.code).toBe("unknown_event_type");
    expect(json.error.details.did_you_mean).toEqual(["commerce.payment.failed", "learning.payment.failed"]);
  });

  it("refuses the bus envelope with an unknown field, naming it", async () => {
    const data = commerceCatalogue.require("commerce.order.created").example;
    const { status, json } = await publish(commerceKey, busEvent("order.created", data, { priority: "high" }));
    expect(status).toBe(400);
    expect(json.error.code).toBe("invalid_envelope");
    expect(JSON.stringify(json.error.details)).toContain("priority");
  });

  it("lists every loaded catalogue's types", async () => {
    const response = await app.request("/v1/schemas", {}, env);
    const body = (await response.json()) as { schemas: { type: string; topic: string }[] };
    expect(body.schemas.find((s) => s.type === "learning.badge.earned")?.topic).toBe("badge.earned");
    expect(body.schemas.find((s) => s.type === "commerce.inventory.reserved")?.topic).toBe("inventory-events");
    expect(body.schemas.some((s) => s.type === "gov.auth.citizen.created")).toBe(true);
  });
});

describe("a deployment's catalogue setting", () => {
  it("defaults to gov: other catalogues' types are unknown", async () => {
    const data = commerceCatalogue.require("commerce.order.created").example;
    const { status, json } = await publish(everyKey, busEvent("order.created", data), testEnv(keys));
    expect(status).toBe(422);
    expect(json.error.code).toBe("unknown_event_type");
  });

  it("naming an unknown catalogue stops the Worker with the reason", async () => {
    const response = await app.request("/healthz", {}, testEnv(keys, { EDGEBUS_CATALOGUES: "gov,shop" }));
    expect(response.status).toBe(500);
    const body = (await response.json()) as ResponseJson;
    expect(body.error.message).toContain("EDGEBUS_CATALOGUES names unknown catalogue(s) shop");
  });
});
