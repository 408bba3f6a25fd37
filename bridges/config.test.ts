import { describe, expect, it } from "vitest";
import { parseBridgeConfig } from "./config.ts";

const env = {
  BRIDGE_KAFKA_REST_USERNAME: "edgebus",
  BRIDGE_KAFKA_REST_PASSWORD: "a-password-of-16+",
  BRIDGE_REDIS_REST_TOKEN: "a-token-of-16-chars",
};

describe("bridge config", () => {
  it("fills documented defaults", () => {
    const config = parseBridgeConfig({}, env);
    expect(config.port).toBe(8788);
    expect(config.kafka.brokers).toEqual(["127.0.0.1:9092"]);
    expect(config.kafka.topics).toEqual({ autoCreate: true, defaultPartitions: 3, replicationFactor: -1 });
    expect(config.mirror.mode).toBe("binary");
    expect(config.mirror.secret).toBeUndefined();
  });

  it("lets the environment override the file", () => {
    const config = parseBridgeConfig(
      { port: 9000, kafka: { brokers: ["file:9092"], sasl: { mechanism: "PLAIN", username: "u", password: "p" } } },
      {
        ...env,
        BRIDGE_PORT: "8000",
        KAFKA_BROKERS: "a:1, b:2",
        BRIDGE_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
        BRIDGE_MIRROR_SECRET: "mirror-secret-0001",
      },
    );
    expect(config.port).toBe(8000);
    expect(config.kafka.brokers).toEqual(["a:1", "b:2"]);
    expect(config.kafka.sasl).toEqual({ mechanism: "SCRAM-SHA-512", username: "u", password: "p" });
    expect(config.mirror.secret).toBe("mirror-secret-0001");
  });

  it("names every problem", () => {
    expect(() => parseBridgeConfig({ port: -1, kafka: { sasl: { mechanism: "GSSAPI" } } }, {})).toThrow(
      /port[\s\S]*mechanism/,
    );
    expect(() => parseBridgeConfig({}, {})).toThrow(
      /BRIDGE_KAFKA_REST_PASSWORD[\s\S]*kafkaRest[\s\S]*BRIDGE_REDIS_REST_TOKEN/,
    );
    expect(() => parseBridgeConfig({ mirror: { secret: "short" } }, env)).toThrow(/at least 16/);
    expect(() => parseBridgeConfig(["a"], env)).toThrow(/mapping/);
  });
});
