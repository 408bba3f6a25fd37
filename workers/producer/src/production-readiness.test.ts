/**
 * Production fails closed. Outside development (ENVIRONMENT = staging or production, or unset),
 * a deployment whose dedup or rate limits would fall back to isolate memory (no Redis, or half of
 * its settings) or whose Kafka settings are half there refuses to publish (503 with a code) and
 * `/healthz` answers 503 with that code. The settings at fault go to the log and to callers with
 * an admin key; anyone else gets the code. Development keeps the friendly fallbacks.
 */
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { createProducerApp } from "./app.ts";
import { MemoryPublisher } from "./brokers/memory-publisher.ts";
import { parseProducerEnv } from "./env.ts";
import {
  bearer,
  CE_BATCH,
  CE_JSON,
  type MintedKey,
  mintKey,
  type ResponseJson,
  structuredEvent,
  testEnv,
} from "./producer-test-harness.ts";

const publisher = await mintKey();
const admin = await mintKey({ admin: true });
const redis = { UPSTASH_REDIS_REST_URL: inject("redisRestUrl"), UPSTASH_REDIS_REST_TOKEN: inject("redisRestToken") };

function producer(extra: Record<string, unknown>) {
  const queues = new MemoryPublisher();
  const app = createProducerApp({ capabilities: () => ({ queues }) });
  const env = testEnv([publisher, admin], { UPSTASH_REDIS_REST_URL: "", UPSTASH_KAFKA_REST_URL: "", ...extra });
  const request = async (path: string, init: RequestInit = {}) => {
    const response = await app.request(path, init, env);
    return { status: response.status, headers: response.headers, json: (await response.json()) as ResponseJson };
  };
  const publish = (key: MintedKey = publisher) =>
    request("/v1/events", {
      method: "POST",
      body: JSON.stringify(structuredEvent()),
      headers: { ...CE_JSON, ...bearer(key) },
    });
  const published = () => queues.destinations().flatMap((queue) => queues.messages(queue));
  return { request, publish, published };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(["production", "staging"])("ENVIRONMENT=%s fails closed", (environment) => {
  it("without Redis: publishing answers 503 dedup_not_shared and nothing is published", async () => {
    const { publish, published, request } = producer({ ENVIRONMENT: environment });
    const single = await publish();
    expect(single.status).toBe(503);
    expect(single.json.error.code).toBe("dedup_not_shared");
    expect(single.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(single.json.error.details).toBeUndefined();
    expect(JSON.stringify(single.json)).not.toContain("UPSTASH");

    const batch = await request("/v1/events/batch", {
      method: "POST",
      body: JSON.stringify([structuredEvent(), structuredEvent()]),
      headers: { ...CE_BATCH, ...bearer(publisher) },
    });
    expect(batch.status).toBe(503);
    expect(batch.json.error.code).toBe("dedup_not_shared");
    expect(published()).toEqual([]);
  });

  it("without Redis: /healthz answers 503 with the code; the settings only to an admin key and the log", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { request } = producer({ ENVIRONMENT: environment });
    const anonymous = await request("/healthz");
    expect(anonymous.status).toBe(503);
    expect(anonymous.json.error).toMatchObject({ code: "dedup_not_shared" });
    expect(anonymous.json.error.details).toBeUndefined();
    expect(JSON.stringify(anonymous.json)).not.toMatch(/UPSTASH|memory|isolate/);

    const withPublisherKey = await request("/healthz", { headers: bearer(publisher) });
    expect(withPublisherKey.json.error.details).toBeUndefined();

    const withAdminKey = await request("/healthz", { headers: bearer(admin) });
    expect(withAdminKey.status).toBe(503);
    expect(withAdminKey.json.error.details.problems).toEqual([
      expect.objectContaining({
        code: "dedup_not_shared",
        settings: ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"],
        message: expect.stringMatching(/isolate memory/),
      }),
    ]);
    const lines = logged.mock.calls.map(([line]) => String(line));
    expect(lines.some((line) => line.includes("dedup_not_shared") && line.includes("UPSTASH_REDIS_REST_URL"))).toBe(
      true,
    );
  });

  it("a Redis URL without its token is the same problem, not a 500", async () => {
    const { request } = producer({ ENVIRONMENT: environment, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9/redis" });
    const health = await request("/healthz", { headers: bearer(admin) });
    expect(health.status).toBe(503);
    expect(health.json.error.details.problems).toEqual([
      expect.objectContaining({ code: "dedup_not_shared", settings: ["UPSTASH_REDIS_REST_TOKEN"] }),
    ]);
  });

  it.each<[string, Record<string, string>, string[]]>([
    [
      "a Kafka URL without credentials",
      { UPSTASH_KAFKA_REST_URL: "http://127.0.0.1:9/kafka" },
      ["UPSTASH_KAFKA_REST_USERNAME", "UPSTASH_KAFKA_REST_PASSWORD"],
    ],
    [
      "Kafka credentials without a URL",
      { UPSTASH_KAFKA_REST_USERNAME: "edgebus", UPSTASH_KAFKA_REST_PASSWORD: "kafka-password-123" },
      ["UPSTASH_KAFKA_REST_URL"],
    ],
    [
      "a Kafka URL and user without a password",
      { UPSTASH_KAFKA_REST_URL: "http://127.0.0.1:9/kafka", UPSTASH_KAFKA_REST_USERNAME: "edgebus" },
      ["UPSTASH_KAFKA_REST_PASSWORD"],
    ],
  ])("%s: 503 kafka_misconfigured on /healthz and on publish", async (_, kafka, missing) => {
    const { request, publish, published } = producer({ ENVIRONMENT: environment, ...redis, ...kafka });
    const health = await request("/healthz");
    expect(health.status).toBe(503);
    expect(health.json.error.code).toBe("kafka_misconfigured");
    const detailed = await request("/healthz", { headers: bearer(admin) });
    expect(detailed.json.error.details.problems).toEqual([
      expect.objectContaining({ code: "kafka_misconfigured", settings: missing }),
    ]);
    const refused = await publish();
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe("kafka_misconfigured");
    expect(published()).toEqual([]);
  });

  it("an admin key publishing sees the settings at fault too", async () => {
    const { publish } = producer({ ENVIRONMENT: environment });
    const refused = await publish(admin);
    expect(refused.json.error.details.problems[0].settings).toContain("UPSTASH_REDIS_REST_URL");
  });

  it("the rest of the API keeps answering: catalogue, OpenAPI, metrics", async () => {
    const { request } = producer({ ENVIRONMENT: environment });
    expect((await request("/v1/schemas")).status).toBe(200);
    expect((await request("/openapi.json")).status).toBe(200);
  });

  it.skipIf(redis.UPSTASH_REDIS_REST_URL === "")(
    "with Redis configured it serves: /healthz 200, publish 202",
    async () => {
      const { request, publish } = producer({ ENVIRONMENT: environment, ...redis });
      const health = await request("/healthz");
      expect(health.status).toBe(200);
      expect(health.json).toMatchObject({
        status: "ok",
        environment,
        dedup: "redis",
        rate_limit: "redis",
        kafka: false,
      });
      expect((await publish()).status).toBe(202);
    },
  );
});

describe("ENVIRONMENT", () => {
  it("unset means production: fails closed", async () => {
    const { request } = producer({ ENVIRONMENT: undefined });
    expect((await request("/healthz")).json.error.code).toBe("dedup_not_shared");
  });

  it("development keeps the isolate-memory fallbacks (healthz 200, publish 202)", async () => {
    const { request, publish } = producer({ ENVIRONMENT: "development" });
    const health = await request("/healthz");
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ environment: "development", dedup: "memory", rate_limit: "memory" });
    expect((await publish()).status).toBe(202);
  });

  it("anything else is a misconfiguration naming ENVIRONMENT", async () => {
    const { request } = producer({ ENVIRONMENT: "prod" });
    const answer = await request("/healthz");
    expect(answer.status).toBe(500);
    expect(answer.json.error.message).toMatch(/ENVIRONMENT/);
  });
});

describe("Redis settings", () => {
  const bindings = testEnv([]);

  it("REDIS_TIMEOUT_MS defaults to 1000; the rate limiter fails closed by default outside development", () => {
    expect(parseProducerEnv({ ...bindings, ENVIRONMENT: "production" })).toMatchObject({
      redisTimeoutMs: 1000,
      rateLimitOnRedisFailure: "closed",
    });
    expect(parseProducerEnv({ ...bindings, ENVIRONMENT: "development" })).toMatchObject({
      rateLimitOnRedisFailure: "open",
    });
    expect(
      parseProducerEnv({
        ...bindings,
        ENVIRONMENT: "production",
        REDIS_TIMEOUT_MS: "250",
        RATE_LIMIT_ON_REDIS_FAILURE: "open",
      }),
    ).toMatchObject({ redisTimeoutMs: 250, rateLimitOnRedisFailure: "open" });
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ REDIS_TIMEOUT_MS: "0" }, /REDIS_TIMEOUT_MS/],
    [{ REDIS_TIMEOUT_MS: "soon" }, /REDIS_TIMEOUT_MS/],
    [{ REDIS_TIMEOUT_MS: "60001" }, /REDIS_TIMEOUT_MS/],
    [{ RATE_LIMIT_ON_REDIS_FAILURE: "ajar" }, /RATE_LIMIT_ON_REDIS_FAILURE/],
  ])("names a bad value: %j", (change, message) => {
    expect(() => parseProducerEnv({ ...bindings, ...change })).toThrow(message);
  });
});
