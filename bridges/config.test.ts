import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { kafkaRestCredentialsOf, mirrorNonceRedisUrl, parseBridgeConfig } from "./config.ts";

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
    expect(config.kafka.topics).toEqual({
      autoCreate: true,
      defaultPartitions: 3,
      replicationFactor: -1,
      createPatterns: [],
      capReplication: false,
      driftCheckMs: 60_000,
    });
    expect(config.mirror.mode).toBe("binary");
    expect(config.mirror.secret).toBeUndefined();
  });

  it("bridge.example.yaml parses and states the defaults of health, metrics and topicEvents", () => {
    const example = parseYaml(readFileSync(join(import.meta.dirname, "../bridge.example.yaml"), "utf8"));
    const config = parseBridgeConfig(example, env);
    const defaults = parseBridgeConfig({}, env);
    expect(config.health).toEqual({ cacheMs: 2000, timeoutMs: 3000 });
    expect(config.metrics).toEqual({ kafka: { enabled: true, cacheMs: 5000, timeoutMs: 4000 } });
    expect(config.topicEvents).toEqual(defaults.topicEvents);
    expect(config.health).toEqual(defaults.health);
    expect(config.metrics).toEqual(defaults.metrics);
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
    expect(config.mirror.secret).toEqual(["mirror-secret-0001"]);
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

  it("keeps the single username/password as one full-access credential, beside scoped ones", () => {
    const config = parseBridgeConfig(
      {
        kafkaRest: {
          credentials: [
            { username: "reader", password: ["reader-password-new", "reader-password-old"], fetch: ["gov.*"] },
          ],
        },
      },
      env,
    );
    expect(kafkaRestCredentialsOf(config)).toEqual([
      { username: "edgebus", password: ["a-password-of-16+"], produce: ["*"], fetch: ["*"], groups: ["*"] },
      {
        username: "reader",
        password: ["reader-password-new", "reader-password-old"],
        produce: [],
        fetch: ["gov.*"],
        groups: [],
      },
    ]);
  });

  it("takes rotation values, credentials and the TLS files from the environment", () => {
    const config = parseBridgeConfig(
      {},
      {
        ...env,
        BRIDGE_KAFKA_REST_PASSWORD_PREVIOUS: "the-old-password-1",
        BRIDGE_KAFKA_REST_CREDENTIALS: JSON.stringify([
          { username: "mirror", password: "mirror-pass-0000001", fetch: ["gov.*"], groups: ["edgebus-mirror"] },
        ]),
        BRIDGE_MIRROR_SECRET: "mirror-secret-new-1",
        BRIDGE_MIRROR_SECRET_PREVIOUS: "mirror-secret-old-1",
        BRIDGE_TLS_CERT_FILE: "/etc/edgebus/bridge.crt",
        BRIDGE_TLS_KEY_FILE: "/etc/edgebus/bridge.key",
      },
    );
    expect(config.kafkaRest.password).toEqual(["a-password-of-16+", "the-old-password-1"]);
    expect(kafkaRestCredentialsOf(config).map((c) => c.username)).toEqual(["edgebus", "mirror"]);
    expect(config.mirror.secret).toEqual(["mirror-secret-new-1", "mirror-secret-old-1"]);
    expect(config.tls).toEqual({ certFile: "/etc/edgebus/bridge.crt", keyFile: "/etc/edgebus/bridge.key" });
    expect(mirrorNonceRedisUrl(config)).toBe("redis://127.0.0.1:6379");
  });

  it("refuses credentials that cannot work", () => {
    expect(() => parseBridgeConfig({}, { ...env, BRIDGE_KAFKA_REST_CREDENTIALS: "[{nope" })).toThrow(
      /BRIDGE_KAFKA_REST_CREDENTIALS is not valid JSON/,
    );
    expect(() =>
      parseBridgeConfig(
        { kafkaRest: { credentials: [{ username: "edgebus", password: "another-password-16" }] } },
        env,
      ),
    ).toThrow(/each username once: edgebus/);
    expect(() =>
      parseBridgeConfig({ kafkaRest: { credentials: [{ username: "a:b", password: "another-password-16" }] } }, env),
    ).toThrow(/must not contain ':'/);
    expect(() =>
      parseBridgeConfig(
        { kafkaRest: { username: "edgebus", password: ["ok-password-000001", "short"] } },
        { BRIDGE_REDIS_REST_TOKEN: env.BRIDGE_REDIS_REST_TOKEN },
      ),
    ).toThrow(/at least 16/);
    expect(() => parseBridgeConfig({ mirror: { maxBodyBytes: 4096, bodyBudgetBytes: 2048 } }, env)).toThrow(
      /at least mirror.maxBodyBytes[\s\S]*mirror.bodyBudgetBytes/,
    );
    // Credentials alone are enough to serve /kafka.
    const scopedOnly = parseBridgeConfig(
      { kafkaRest: { credentials: [{ username: "r", password: "reader-password-16", fetch: ["*"] }] } },
      { BRIDGE_REDIS_REST_TOKEN: env.BRIDGE_REDIS_REST_TOKEN },
    );
    expect(kafkaRestCredentialsOf(scopedOnly)).toHaveLength(1);
  });
});
