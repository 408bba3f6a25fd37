import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createProducerApp } from "./app.ts";
import { parseProducerEnv } from "./env.ts";

const bindings = env as unknown as Record<string, unknown>;

describe("producer env (validated at the fetch boundary)", () => {
  it("treats empty Redis/Kafka URLs as unset", () => {
    const config = parseProducerEnv({ ...bindings, UPSTASH_REDIS_REST_URL: "", UPSTASH_KAFKA_REST_URL: "" });
    expect(config).toMatchObject({ redis: null, kafka: null, apiKeys: [], environment: "development" });
    expect(Object.keys(config.queues).sort()).toEqual([
      "archive",
      "kafka-mirror",
      "notifications",
      "permits-citizen-sync",
      "revenue-citizen-sync",
    ]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      "a Redis URL without its token",
      { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8788/redis" },
      /UPSTASH_REDIS_REST_TOKEN/,
    ],
    [
      "a Kafka URL without credentials",
      { UPSTASH_KAFKA_REST_URL: "http://127.0.0.1:8788/kafka" },
      /UPSTASH_KAFKA_REST_PASSWORD/,
    ],
    ["a URL that is not http(s)", { UPSTASH_KAFKA_REST_URL: "kafka://broker:9092" }, /UPSTASH_KAFKA_REST_URL/],
    ["a missing queue binding", { Q_ARCHIVE: undefined }, /Q_ARCHIVE/],
    ["broken EDGEBUS_API_KEYS", { EDGEBUS_API_KEYS: "[{" }, /EDGEBUS_API_KEYS/],
  ])("names the setting for %s", (_, change, message) => {
    expect(() => parseProducerEnv({ ...bindings, ...change })).toThrow(message);
  });

  it("answers a misconfiguration with 500 internal naming the setting, in the error shape", async () => {
    const app = createProducerApp();
    const response = await app.request("/healthz", {}, { ...bindings, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1" });
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("internal");
    expect(body.error.message).toMatch(/UPSTASH_REDIS_REST_TOKEN/);
  });
});
