/**
 * The Kafka destination end to end from the producer's side: the real Upstash Kafka publisher
 * (`@upstash/kafka`) talks to a recording Kafka REST server; the record must follow the
 * CloudEvents Kafka binding in binary mode (key = partitionkey, value = data, `ce_*` headers).
 */
import { describe, expect, inject, it } from "vitest";
import { createProducerApp } from "./app.ts";
import { MemoryPublisher } from "./brokers/memory-publisher.ts";
import { bearer, CE_JSON, mintKey, type ResponseJson, structuredEvent, testEnv } from "./producer-test-harness.ts";

interface Recorded {
  requests: { method: string; path: string; headers: Record<string, string>; rawBody: string }[];
}

const key = await mintKey();
const env = testEnv([key], {
  UPSTASH_KAFKA_REST_URL: inject("kafkaRestUrl"),
  UPSTASH_KAFKA_REST_USERNAME: inject("kafkaRestUsername"),
  UPSTASH_KAFKA_REST_PASSWORD: inject("kafkaRestPassword"),
});

async function recordedFor(eventId: string) {
  const recorded = (await (await fetch(inject("kafkaInspectUrl"))).json()) as Recorded;
  return recorded.requests.filter((request) => request.rawBody.includes(eventId));
}

describe("Kafka path (Upstash Kafka REST)", () => {
  it("produces one binary-mode CloudEvents record to gov.<domain>.<entity> and returns partition and offset", async () => {
    const app = createProducerApp({ capabilities: () => ({ queues: new MemoryPublisher() }) });
    const event = structuredEvent("gov.auth.citizen.created", {
      correlationid: "corr-7",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    });
    const response = await app.request(
      "/v1/events",
      { method: "POST", body: JSON.stringify(event), headers: { ...CE_JSON, ...bearer(key) } },
      env,
    );
    const receipt = (await response.json()) as ResponseJson;
    expect(response.status).toBe(202);
    expect(receipt.kafka).toEqual({
      topic: "gov.auth.citizen",
      partition: expect.any(Number),
      offset: expect.any(Number),
    });

    const requests = await recordedFor(event.id);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/kafka/produce");
    expect(request?.headers.authorization).toBe(
      `Basic ${btoa(`${inject("kafkaRestUsername")}:${inject("kafkaRestPassword")}`)}`,
    );
    expect(request?.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(request?.rawBody ?? "null") as {
      topic: string;
      key: string;
      value: string;
      headers: { key: string; value: string }[];
    }[];
    expect(body).toHaveLength(1);
    const [record] = body;
    const entityId = String((event.data as Record<string, unknown>).id);
    expect(record?.topic).toBe("gov.auth.citizen");
    expect(record?.key).toBe(entityId);
    expect(JSON.parse(record?.value ?? "null")).toEqual(event.data);
    const headers = Object.fromEntries((record?.headers ?? []).map((h) => [h.key, h.value]));
    expect(headers).toMatchObject({
      ce_specversion: "1.0",
      ce_id: event.id,
      ce_source: event.source,
      ce_type: "gov.auth.citizen.created",
      ce_eventversion: "1",
      ce_correlationid: "corr-7",
      ce_partitionkey: entityId,
      ce_subject: entityId,
      ce_traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "content-type": "application/json",
    });
    expect(headers.ce_time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(headers.ce_data).toBeUndefined();
  });

  it("keeps an explicit partitionkey as the record key", async () => {
    const app = createProducerApp({ capabilities: () => ({ queues: new MemoryPublisher() }) });
    const event = structuredEvent("gov.permits.inspection.completed", { partitionkey: "district-9" });
    await app.request(
      "/v1/events",
      { method: "POST", body: JSON.stringify(event), headers: { ...CE_JSON, ...bearer(key) } },
      env,
    );
    const [request] = await recordedFor(event.id);
    const [record] = JSON.parse(request?.rawBody ?? "[]") as { topic: string; key: string }[];
    expect(record).toMatchObject({ topic: "gov.permits.inspection", key: "district-9" });
  });

  it("without UPSTASH_KAFKA_REST_URL the receipt has kafka: null and nothing is produced", async () => {
    const app = createProducerApp({ capabilities: () => ({ queues: new MemoryPublisher() }) });
    const event = structuredEvent("gov.auth.citizen.created");
    const response = await app.request(
      "/v1/events",
      { method: "POST", body: JSON.stringify(event), headers: { ...CE_JSON, ...bearer(key) } },
      testEnv([key]),
    );
    expect(((await response.json()) as Record<string, unknown>).kafka).toBeNull();
    expect(await recordedFor(event.id)).toHaveLength(0);
  });
});
