import { describe, expect, it } from "vitest";
import { kafkaPublisherFromEnv } from "./kafka-publisher-from-env.ts";
import { UpstashKafkaPublisher } from "./upstash-kafka-publisher.ts";

describe("kafkaPublisherFromEnv", () => {
  it("returns null when no Kafka REST URL is configured", () => {
    expect(kafkaPublisherFromEnv({})).toBeNull();
    expect(kafkaPublisherFromEnv({ UPSTASH_KAFKA_REST_URL: "  " })).toBeNull();
  });

  it("builds the publisher when URL, username and password are set", () => {
    const publisher = kafkaPublisherFromEnv({
      UPSTASH_KAFKA_REST_URL: "http://127.0.0.1:8788/kafka",
      UPSTASH_KAFKA_REST_USERNAME: "edgebus",
      UPSTASH_KAFKA_REST_PASSWORD: "secret",
    });
    expect(publisher).toBeInstanceOf(UpstashKafkaPublisher);
  });

  it("names the exact wrangler command for each missing secret", () => {
    expect(() => kafkaPublisherFromEnv({ UPSTASH_KAFKA_REST_URL: "http://127.0.0.1:8788/kafka" })).toThrow(
      "`npx wrangler secret put UPSTASH_KAFKA_REST_USERNAME && npx wrangler secret put UPSTASH_KAFKA_REST_PASSWORD`",
    );
    expect(() =>
      kafkaPublisherFromEnv({
        UPSTASH_KAFKA_REST_URL: "https://kafka.example.gov/kafka",
        UPSTASH_KAFKA_REST_USERNAME: "u",
      }),
    ).toThrow(/UPSTASH_KAFKA_REST_PASSWORD is not: run `npx wrangler secret put UPSTASH_KAFKA_REST_PASSWORD`/);
  });

  it("rejects a URL that is not http(s)", () => {
    expect(() =>
      kafkaPublisherFromEnv({
        UPSTASH_KAFKA_REST_URL: "kafka://broker:9092",
        UPSTASH_KAFKA_REST_USERNAME: "u",
        UPSTASH_KAFKA_REST_PASSWORD: "p",
      }),
    ).toThrow(/UPSTASH_KAFKA_REST_URL must be an http\(s\) URL/);
  });
});
