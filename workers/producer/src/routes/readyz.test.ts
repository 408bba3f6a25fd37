/**
 * `GET /readyz` against real dependencies: the bridge's Redis REST gateway over the real Redis,
 * the recording Kafka REST server, a server that accepts and never answers (a Redis or Kafka that
 * hangs) and a refused port. `/healthz` stays constant: it answers the same whatever they do.
 */
import { describe, expect, inject, it } from "vitest";
import { createProducerApp } from "../app.ts";
import { mintKey, type ResponseJson, testEnv } from "../producer-test-harness.ts";

const redisUrl = inject("redisRestUrl");
const redis = { UPSTASH_REDIS_REST_URL: redisUrl, UPSTASH_REDIS_REST_TOKEN: inject("redisRestToken") };
const kafka = {
  UPSTASH_KAFKA_REST_URL: inject("kafkaRestUrl"),
  UPSTASH_KAFKA_REST_USERNAME: inject("kafkaRestUsername"),
  UPSTASH_KAFKA_REST_PASSWORD: inject("kafkaRestPassword"),
};
const blackHole = inject("blackHoleUrl");
const key = await mintKey();

/** Requests the Kafka REST recorder received for its topic list. */
async function topicListRequests(): Promise<number> {
  const seen = (await (await fetch(inject("kafkaInspectUrl"))).json()) as {
    requests: { method: string; path: string }[];
  };
  return seen.requests.filter((r) => r.method === "GET" && r.path === "/kafka/topics").length;
}

function producer(extra: Record<string, unknown>) {
  const app = createProducerApp();
  const env = testEnv([key], { UPSTASH_REDIS_REST_URL: "", UPSTASH_KAFKA_REST_URL: "", ...extra });
  return async (path: string) => {
    const started = Date.now();
    const response = await app.request(path, {}, env);
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      json: (await response.json()) as ResponseJson,
      ms: Date.now() - started,
    };
  };
}

describe("GET /readyz", () => {
  it("development without Redis or Kafka: ready, nothing to probe", async () => {
    const get = producer({});
    expect(await get("/readyz")).toMatchObject({
      status: 200,
      json: { status: "ready", checks: { redis: "not_configured", kafka: "not_configured" } },
    });
  });

  it.runIf(redisUrl !== "")("Redis and Kafka answering: ready; the answer is reused for a few seconds", async () => {
    const get = producer({ ...redis, ...kafka });
    const before = await topicListRequests();
    expect(await get("/readyz")).toMatchObject({
      status: 200,
      json: { status: "ready", checks: { redis: "ok", kafka: "ok" } },
    });
    await get("/readyz");
    await get("/readyz");
    // One probe for the three requests of this isolate.
    expect((await topicListRequests()) - before).toBe(1);
  });

  it("Redis not answering: 503 redis_unavailable within REDIS_TIMEOUT_MS, /healthz unaffected", async () => {
    const get = producer({
      UPSTASH_REDIS_REST_URL: blackHole,
      UPSTASH_REDIS_REST_TOKEN: "t".repeat(32),
      REDIS_TIMEOUT_MS: "300",
    });
    const ready = await get("/readyz");
    expect(ready).toMatchObject({
      status: 503,
      retryAfter: "5",
      json: {
        error: {
          code: "redis_unavailable",
          message: "not ready: redis unavailable: no answer within 300 ms",
          details: { checks: { redis: "unavailable: no answer within 300 ms", kafka: "not_configured" } },
        },
      },
    });
    expect(ready.ms).toBeLessThan(3000);
    expect(JSON.stringify(ready.json)).not.toContain(blackHole);
    expect((await get("/healthz")).status).toBe(200);
  });

  it("Kafka refusing the credentials: 503 kafka_unavailable naming the status", async () => {
    const get = producer({ ...kafka, UPSTASH_KAFKA_REST_PASSWORD: "not-the-password" });
    expect(await get("/readyz")).toMatchObject({
      status: 503,
      json: {
        error: {
          code: "kafka_unavailable",
          details: { checks: { redis: "not_configured", kafka: "unavailable: answered HTTP 401" } },
        },
      },
    });
  });

  it("Kafka unreachable and Redis down: Redis is named first, both are in the details", async () => {
    const get = producer({
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1/redis",
      UPSTASH_REDIS_REST_TOKEN: "t".repeat(32),
      ...kafka,
      UPSTASH_KAFKA_REST_URL: "http://127.0.0.1:1/kafka",
    });
    const ready = await get("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.json.error.code).toBe("redis_unavailable");
    expect(ready.json.error.details.checks).toEqual({
      redis: "unavailable: unreachable",
      kafka: "unavailable: unreachable",
    });
  });

  it("a deployment that must not publish is not ready either, with the same code as /healthz", async () => {
    const get = producer({ ENVIRONMENT: "production" });
    const ready = await get("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.json.error.code).toBe("dedup_not_shared");
    expect(ready.json.error.details).toBeUndefined();
  });
});
