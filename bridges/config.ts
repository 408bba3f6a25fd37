import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";

/**
 * The bridge's configuration: one YAML or JSON file (`--config bridge.yaml`, see
 * `bridge.example.yaml`), every field with a documented default, and environment variables on
 * top (the names in docs/configuration.md: KAFKA_BROKERS, REDIS_URL, BRIDGE_PORT, BRIDGE_KAFKA_REST_USERNAME,
 * BRIDGE_KAFKA_REST_PASSWORD, BRIDGE_REDIS_REST_TOKEN, BRIDGE_MIRROR_SECRET; plus
 * BRIDGE_KAFKA_SASL_MECHANISM/USERNAME/PASSWORD and BRIDGE_KAFKA_TLS=true). Parsed once, here.
 */

const secret = z.string().min(16, "must be at least 16 characters");

export const bridgeConfigSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8788),
    hostname: z.string().default("127.0.0.1"),
    kafka: z
      .object({
        brokers: z
          .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, "host:port"))
          .min(1)
          .default(["127.0.0.1:9092"]),
        clientId: z.string().min(1).default("edgebus-bridge"),
        requestTimeoutMs: z.number().int().min(1000).max(120_000).default(30_000),
        sasl: z
          .object({
            mechanism: z.enum(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]),
            username: z.string().min(1),
            password: z.string().min(1),
          })
          .optional(),
        tls: z
          .object({
            caFile: z.string().optional(),
            certFile: z.string().optional(),
            keyFile: z.string().optional(),
            rejectUnauthorized: z.boolean().default(true),
          })
          .optional(),
        topics: z
          .object({
            /** Create missing topics on first use (partitions from the catalogue). */
            autoCreate: z.boolean().default(true),
            defaultPartitions: z.number().int().min(1).max(1000).default(3),
            /** -1 = the broker's default.replication.factor. */
            replicationFactor: z.number().int().min(-1).max(10).default(-1),
          })
          .prefault({}),
      })
      .prefault({}),
    kafkaRest: z
      .object({
        enabled: z.boolean().default(true),
        username: z.string().min(1).optional(),
        password: secret.optional(),
        consumerIdleTimeoutMs: z.number().int().min(1000).default(120_000),
        maxConsumerInstances: z.number().int().min(1).default(200),
        maxBodyBytes: z.number().int().min(1024).default(1_048_576),
      })
      .prefault({}),
    redisRest: z
      .object({
        enabled: z.boolean().default(true),
        url: z.string().url().default("redis://127.0.0.1:6379"),
        token: secret.optional(),
      })
      .prefault({}),
    mirror: z
      .object({
        /** Push: the kafka-mirror Worker posts signed batches to `POST /v1/mirror`. */
        secret: secret.optional(),
        mode: z.enum(["binary", "structured"]).default("binary"),
        toleranceSeconds: z.number().int().min(1).max(3600).default(300),
        /** 100 events of the producer's largest size (~128 kB) must fit. */
        maxBodyBytes: z
          .number()
          .int()
          .min(1024)
          .default(16 * 1_048_576),
        include: z.array(z.string()).default([]),
        exclude: z.array(z.string()).default([]),
        rename: z.array(z.object({ from: z.string().min(1), to: z.string().min(1) })).default([]),
        /** Pull: consume an Upstash-Kafka-REST endpoint and forward into this Kafka. */
        pull: z
          .object({
            url: z.string().url(),
            username: z.string().min(1),
            password: z.string().min(1),
            topics: z.array(z.string().min(1)).min(1),
            group: z.string().min(1).default("edgebus-mirror"),
            instance: z.string().min(1).default("bridge"),
            pollTimeoutMs: z.number().int().min(0).max(30_000).default(5_000),
          })
          .optional(),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.kafkaRest.enabled && (!config.kafkaRest.username || !config.kafkaRest.password)) {
      ctx.addIssue({
        code: "custom",
        path: ["kafkaRest"],
        message:
          "username and password are required (BRIDGE_KAFKA_REST_USERNAME / BRIDGE_KAFKA_REST_PASSWORD) or set enabled: false",
      });
    }
    if (config.redisRest.enabled && !config.redisRest.token) {
      ctx.addIssue({
        code: "custom",
        path: ["redisRest", "token"],
        message: "required (BRIDGE_REDIS_REST_TOKEN) or set redisRest.enabled: false",
      });
    }
  });

export type BridgeConfig = z.output<typeof bridgeConfigSchema>;

type Env = Readonly<Record<string, string | undefined>>;

/** Environment variables on top of the file: each one replaces the field it names. */
export function applyEnvironment(file: Record<string, unknown>, env: Env): Record<string, unknown> {
  const merged = structuredClone(file) as Record<string, Record<string, unknown>>;
  const section = (name: string): Record<string, unknown> => {
    const current = merged[name];
    if (current && typeof current === "object") return current;
    merged[name] = {};
    return merged[name];
  };
  if (env.BRIDGE_PORT !== undefined) (merged as Record<string, unknown>).port = Number(env.BRIDGE_PORT);
  if (env.KAFKA_BROKERS)
    section("kafka").brokers = env.KAFKA_BROKERS.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  if (env.BRIDGE_KAFKA_SASL_MECHANISM || env.BRIDGE_KAFKA_SASL_USERNAME || env.BRIDGE_KAFKA_SASL_PASSWORD) {
    const kafka = section("kafka");
    const sasl = { ...((kafka.sasl as Record<string, unknown>) ?? {}) };
    if (env.BRIDGE_KAFKA_SASL_MECHANISM) sasl.mechanism = env.BRIDGE_KAFKA_SASL_MECHANISM;
    if (env.BRIDGE_KAFKA_SASL_USERNAME) sasl.username = env.BRIDGE_KAFKA_SASL_USERNAME;
    if (env.BRIDGE_KAFKA_SASL_PASSWORD) sasl.password = env.BRIDGE_KAFKA_SASL_PASSWORD;
    kafka.sasl = sasl;
  }
  if (env.BRIDGE_KAFKA_TLS === "true") section("kafka").tls = { ...((section("kafka").tls as object) ?? {}) };
  if (env.BRIDGE_KAFKA_REST_USERNAME) section("kafkaRest").username = env.BRIDGE_KAFKA_REST_USERNAME;
  if (env.BRIDGE_KAFKA_REST_PASSWORD) section("kafkaRest").password = env.BRIDGE_KAFKA_REST_PASSWORD;
  if (env.REDIS_URL) section("redisRest").url = env.REDIS_URL;
  if (env.BRIDGE_REDIS_REST_TOKEN) section("redisRest").token = env.BRIDGE_REDIS_REST_TOKEN;
  if (env.BRIDGE_MIRROR_SECRET) section("mirror").secret = env.BRIDGE_MIRROR_SECRET;
  return merged;
}

/** Parses a config object (file content plus environment); throws with every problem listed. */
export function parseBridgeConfig(file: unknown, env: Env = {}): BridgeConfig {
  if (file !== undefined && (file === null || typeof file !== "object" || Array.isArray(file))) {
    throw new EdgebusError("bad_request", "bridge config must be a mapping at the top level");
  }
  const result = bridgeConfigSchema.safeParse(applyEnvironment((file ?? {}) as Record<string, unknown>, env));
  if (!result.success) {
    throw new EdgebusError("bad_request", `invalid bridge config:\n${z.prettifyError(result.error)}`, {
      details: result.error.issues,
    });
  }
  return result.data;
}

/** Reads a YAML (or JSON, which is YAML) file; `undefined` path = environment and defaults only. */
export async function loadBridgeConfig(path: string | undefined, env: Env): Promise<BridgeConfig> {
  let file: unknown;
  if (path !== undefined) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new EdgebusError("bad_request", `cannot read bridge config ${path}: ${(error as Error).message}`);
    }
    try {
      file = parseYaml(text) ?? {};
    } catch (error) {
      throw new EdgebusError(
        "bad_request",
        `bridge config ${path} is not valid YAML/JSON: ${(error as Error).message}`,
      );
    }
  }
  return parseBridgeConfig(file, env);
}
