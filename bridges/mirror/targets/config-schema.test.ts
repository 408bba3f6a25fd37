import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { isEdgebusError } from "#shared/errors.ts";
import { parseBridgeConfig } from "../../config.ts";
import { mirrorTargetsOf, targetMapping } from "./create-targets.ts";

/** What every config here needs besides the mirror (no Kafka REST, no Redis REST). */
const base = { kafkaRest: { enabled: false }, redisRest: { enabled: false } };
const secret = "mirror-secret-0123456789";

function problems(file: unknown, env: Record<string, string> = {}): string {
  try {
    parseBridgeConfig(file, env);
  } catch (error) {
    if (isEdgebusError(error)) return error.message;
    throw error;
  }
  throw new Error("expected the config to be refused");
}

describe("mirror.targets", () => {
  it("defaults to Kafka alone, with the mirror section's mapping and mode", () => {
    const config = parseBridgeConfig({
      ...base,
      mirror: { secret, exclude: ["gov.notification.*"], mode: "structured" },
    });
    expect(mirrorTargetsOf(config.mirror)).toEqual([{ kind: "kafka" }]);
    const mapping = targetMapping(config.mirror, { kind: "kafka" });
    expect(mapping.map("gov.notification.email")).toBeNull();
    expect(mapping.map("gov.auth.citizen")).toBe("gov.auth.citizen");
  });

  it("takes several targets, each with its defaults and its own mapping", () => {
    const config = parseBridgeConfig({
      ...base,
      mirror: {
        secret,
        rename: [{ from: "gov.*", to: "onprem.gov.*" }],
        targets: [
          { kind: "kafka" },
          {
            kind: "rabbitmq",
            url: "amqp://guest:guest@127.0.0.1:5672",
            queues: [{ name: "q", bindingKeys: ["gov.#"] }],
          },
          { kind: "nats", url: "nats://127.0.0.1:4222", rename: [] },
          { kind: "redis-streams", name: "audit-streams", url: "redis://127.0.0.1:6379", include: ["gov.auth.*"] },
        ],
      },
    });
    const [kafka, rabbit, nats, redis] = mirrorTargetsOf(config.mirror);
    expect(rabbit).toMatchObject({ exchange: "edgebus", queues: [{ name: "q", type: "quorum" }], timeoutMs: 10_000 });
    expect(nats).toMatchObject({
      subjectPrefix: "edgebus.",
      stream: {
        name: "EDGEBUS",
        subjects: ["edgebus.>"],
        retention: "limits",
        replicas: 1,
        duplicateWindowSeconds: 600,
      },
    });
    expect(redis).toMatchObject({ name: "audit-streams", keyPrefix: "edgebus:", maxLen: 1_000_000 });
    expect(targetMapping(config.mirror, kafka as never).map("gov.auth.citizen")).toBe("onprem.gov.auth.citizen");
    expect(targetMapping(config.mirror, nats as never).map("gov.auth.citizen")).toBe("gov.auth.citizen");
    expect(targetMapping(config.mirror, redis as never).map("gov.revenue.payment")).toBeNull();
  });

  it("BRIDGE_RABBITMQ_URL / BRIDGE_NATS_URL / BRIDGE_REDIS_STREAMS_URL add a target with its defaults, or set the url of the listed one", () => {
    const env = {
      BRIDGE_RABBITMQ_URL: "amqp://u:p@rabbit:5672",
      BRIDGE_NATS_URL: "nats://nats:4222",
      BRIDGE_REDIS_STREAMS_URL: "redis://streams:6379",
    };
    const added = parseBridgeConfig({ ...base, mirror: { secret } }, env);
    expect(mirrorTargetsOf(added.mirror).map((t) => [t.kind, "url" in t ? t.url : undefined])).toEqual([
      ["kafka", undefined],
      ["rabbitmq", env.BRIDGE_RABBITMQ_URL],
      ["nats", env.BRIDGE_NATS_URL],
      ["redis-streams", env.BRIDGE_REDIS_STREAMS_URL],
    ]);
    const listed = parseBridgeConfig(
      { ...base, mirror: { secret, targets: [{ kind: "rabbitmq", exchange: "gov" }] } },
      { BRIDGE_RABBITMQ_URL: env.BRIDGE_RABBITMQ_URL },
    );
    expect(mirrorTargetsOf(listed.mirror)).toEqual([
      expect.objectContaining({ kind: "rabbitmq", exchange: "gov", url: env.BRIDGE_RABBITMQ_URL }),
    ]);
  });

  it("refuses a bad list, naming every problem at once", () => {
    const message = problems({
      ...base,
      mirror: {
        secret,
        targets: [
          { kind: "rabbitmq" },
          { kind: "nats", url: "http://nats:4222", stream: { subjects: ["other.>"] } },
          { kind: "redis-streams", url: "redis://r:6379", maxLen: -1 },
          { kind: "redis-streams", url: "redis://r2:6379" },
          { kind: "sqs" },
          { kind: "kafka", exchange: "x" },
        ],
      },
    });
    expect(message).toMatch(/required \(amqp:\/\/[^\n]*\n\s*→ at mirror\.targets\[0\]\.url/);
    expect(message).toMatch(/must start with nats:\/\/[^\n]*\n\s*→ at mirror\.targets\[1\]\.url/);
    expect(message).toMatch(/→ at mirror\.targets\[2\]\.maxLen/);
    expect(message).toMatch(
      /Expected 'kafka' \| 'rabbitmq' \| 'nats' \| 'redis-streams'\n\s*→ at mirror\.targets\[4\]\.kind/,
    );
    expect(message).toMatch(/"exchange"\n\s*→ at mirror\.targets\[5\]/);
    // Cross-entry checks run too once each entry is valid on its own.
    const list = problems({
      ...base,
      mirror: {
        secret,
        targets: [
          { kind: "nats", url: "nats://n:4222", stream: { subjects: ["other.>"] } },
          { kind: "redis-streams", url: "redis://r:6379" },
          { kind: "redis-streams", url: "redis://r2:6379" },
        ],
      },
    });
    expect(list).toMatch(/"edgebus\.>"[^\n]*\n\s*→ at mirror\.targets\[0\]\.stream\.subjects/);
    expect(list).toMatch(/used twice[^\n]*\n\s*→ at mirror\.targets\[2\]\.name/);
  });

  it("bridge.example.yaml's targets (the commented example included) are valid", () => {
    const text = readFileSync(join(import.meta.dirname, "../../../bridge.example.yaml"), "utf8");
    const start = text.indexOf("(targets example begin)");
    const end = text.indexOf("(targets example end)");
    expect(start).toBeGreaterThan(0);
    const lines = text.slice(text.indexOf("\n", start) + 1, text.lastIndexOf("\n", end)).split("\n");
    const uncommented = lines.map((line) => line.replace(/^(\s*)# ?/, "$1")).join("\n");
    const targets = [{ kind: "kafka" }, ...(parseYaml(uncommented) as unknown[])];
    const config = parseBridgeConfig({ ...base, mirror: { secret, targets } });
    expect(mirrorTargetsOf(config.mirror).map((t) => t.kind)).toEqual(["kafka", "rabbitmq", "nats", "redis-streams"]);
  });
});
