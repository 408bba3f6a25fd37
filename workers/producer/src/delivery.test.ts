/**
 * Effectively-once delivery end to end through the API: a destination fails, the client retries,
 * only the missing destination is published and the answer is `duplicate` with the original
 * receipt. Runs on the isolate-memory store and, when Redis is up, on real Redis through the
 * bridge's Upstash Redis REST gateway (what production uses).
 */
import { describe, expect, inject, it } from "vitest";
import { createProducerApp } from "./app.ts";
import { MemoryPublisher } from "./brokers/memory-publisher.ts";
import { bearer, CE_JSON, mintKey, type ResponseJson, structuredEvent, testEnv } from "./producer-test-harness.ts";

const key = await mintKey();
const redisUrl = inject("redisRestUrl");

const stores = [
  { name: "isolate memory", extra: {} },
  ...(redisUrl === ""
    ? []
    : [
        {
          name: "Redis via the REST gateway",
          extra: { UPSTASH_REDIS_REST_URL: redisUrl, UPSTASH_REDIS_REST_TOKEN: inject("redisRestToken") },
        },
      ]),
];

describe.each(stores)("delivery with dedup on $name", ({ extra }) => {
  function setup() {
    const queues = new MemoryPublisher();
    const kafka = new MemoryPublisher();
    const app = createProducerApp({ capabilities: () => ({ queues, kafka }) });
    const env = testEnv([key], extra);
    const publish = async (event: unknown) => {
      const response = await app.request(
        "/v1/events",
        { method: "POST", body: JSON.stringify(event), headers: { ...CE_JSON, ...bearer(key) } },
        env,
      );
      return { response, json: (await response.json()) as ResponseJson };
    };
    return { queues, kafka, publish, app, env };
  }

  it("completes only the missing destination on retry and returns the original receipt", async () => {
    const { queues, kafka, publish } = setup();
    const event = structuredEvent("gov.auth.citizen.created");
    kafka.failDestination("gov.auth.citizen");

    const failed = await publish(event);
    expect(failed.response.status).toBe(503);
    expect(failed.response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(failed.json.error).toMatchObject({
      code: "upstream_unavailable",
      details: { failed: ["kafka:gov.auth.citizen"] },
    });
    expect(queues.messages("archive").filter((m) => m.id.endsWith(event.id))).toHaveLength(1);

    kafka.heal("gov.auth.citizen");
    const retried = await publish(event);
    expect(retried.response.status).toBe(202);
    expect(retried.json).toEqual({
      id: event.id,
      type: event.type,
      status: "duplicate",
      kafka: { topic: "gov.auth.citizen", partition: 0, offset: expect.any(Number) },
      queues: ["permits-citizen-sync", "revenue-citizen-sync", "notifications", "kafka-mirror", "archive"],
    });
    for (const queue of ["permits-citizen-sync", "revenue-citizen-sync", "notifications", "kafka-mirror", "archive"]) {
      expect(
        queues.messages(queue).filter((m) => m.id.endsWith(event.id)),
        queue,
      ).toHaveLength(1);
    }
    expect(kafka.messages("gov.auth.citizen").filter((m) => m.id.endsWith(event.id))).toHaveLength(1);

    const again = await publish(event);
    expect(again.json).toEqual(retried.json);
    expect(kafka.messages("gov.auth.citizen").filter((m) => m.id.endsWith(event.id))).toHaveLength(1);
    expect(queues.messages("archive").filter((m) => m.id.endsWith(event.id))).toHaveLength(1);
  });

  it("publishes once when two identical requests race", async () => {
    const { queues, publish } = setup();
    const event = structuredEvent("gov.permits.inspection.completed");
    const results = await Promise.all([publish(event), publish(event), publish(event)]);
    const statuses = results.map((r) => r.response.status).sort();
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(1);
    for (const result of results) {
      if (result.response.status !== 202) {
        expect(result.response.status).toBe(409);
        expect(result.json.error.code).toBe("conflict");
        expect(result.response.headers.get("retry-after")).toBe("1");
      }
    }
    expect(results.filter((r) => r.json.status === "accepted")).toHaveLength(1);
    expect(queues.messages("archive").filter((m) => m.id.endsWith(event.id))).toHaveLength(1);
  });

  it("reports an unreachable queue as 503 upstream_unavailable, never 500", async () => {
    const { queues, publish } = setup();
    queues.failNext(1);
    const failed = await publish(structuredEvent("gov.permits.inspection.completed"));
    expect(failed.response.status).toBe(503);
    expect(failed.json.error.code).toBe("upstream_unavailable");
  });
});

describe.skipIf(redisUrl === "")("dedup shared across isolates", () => {
  it("sees a duplicate published through another app instance (another isolate)", async () => {
    const extra = { UPSTASH_REDIS_REST_URL: redisUrl, UPSTASH_REDIS_REST_TOKEN: inject("redisRestToken") };
    const event = structuredEvent("gov.permits.inspection.completed");
    const request = () => ({ method: "POST", body: JSON.stringify(event), headers: { ...CE_JSON, ...bearer(key) } });
    const a = createProducerApp({ capabilities: () => ({ queues: new MemoryPublisher(), kafka: null }) });
    const b = createProducerApp({ capabilities: () => ({ queues: new MemoryPublisher(), kafka: null }) });
    const first = await (await a.request("/v1/events", request(), testEnv([key], extra))).json();
    const second = await (await b.request("/v1/events", request(), testEnv([key], extra))).json();
    expect(first).toMatchObject({ status: "accepted" });
    expect(second).toMatchObject({ status: "duplicate" });
  });
});
