import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";
import { mirrorTargetSchema, targetListProblems, withTargetEnvironment } from "./mirror/targets/config-schema.ts";
import { redisRestConfigSchema } from "./redis-rest/config-schema.ts";

/**
 * The bridge's configuration: one YAML or JSON file (`--config bridge.yaml`, see
 * `bridge.example.yaml`), every field with a documented default, and environment variables on
 * top (the names in docs/configuration.md: KAFKA_BROKERS, REDIS_URL, BRIDGE_PORT, BRIDGE_KAFKA_REST_USERNAME,
 * BRIDGE_KAFKA_REST_PASSWORD(_PREVIOUS), BRIDGE_KAFKA_REST_CREDENTIALS, BRIDGE_REDIS_REST_TOKEN(_PREVIOUS),
 * BRIDGE_REDIS_REST_READONLY_TOKEN(_PREVIOUS),
 * BRIDGE_MIRROR_SECRET(_PREVIOUS), BRIDGE_RABBITMQ_URL, BRIDGE_NATS_URL, BRIDGE_REDIS_STREAMS_URL,
 * BRIDGE_TLS_CERT_FILE/KEY_FILE; plus
 * BRIDGE_KAFKA_SASL_MECHANISM/USERNAME/PASSWORD and BRIDGE_KAFKA_TLS=true). Parsed once, here.
 */

const secret = z.string().min(16, "must be at least 16 characters");
/** One value, or a list of values that are all accepted (rotation: the new one and the old one). */
const secrets = z
  .union([secret, z.array(secret).min(1, "at least one value")])
  .transform((value) => (Array.isArray(value) ? value : [value]));
/** Glob patterns (`*` = any run of characters) on topic or consumer-group names. */
const patterns = z.array(z.string().min(1)).default([]);
const MIB = 1_048_576;

/**
 * One Kafka REST login and what it may do: `produce` topics, `fetch` topics (fetch, consume,
 * committed, offsets) and consumer `groups` (consume, commit, committed, delete), each a list
 * of glob patterns; an empty list allows nothing.
 */
const kafkaRestCredential = z.object({
  username: z
    .string()
    .min(1)
    .regex(/^[^:]+$/, "must not contain ':'"),
  password: secrets,
  produce: patterns,
  fetch: patterns,
  groups: patterns,
});
export type KafkaRestCredentialConfig = z.output<typeof kafkaRestCredential>;

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
            /**
             * Topics the bridge may create besides the catalogue's (and their `mirror.rename`
             * targets): glob patterns. Any other missing topic is a 404 naming it.
             */
            createPatterns: patterns,
            /**
             * Catalogues whose topics (with their settings: partitions, replication, retention,
             * compression) the bridge creates and checks for drift; default every shipped one.
             */
            catalogues: z.array(z.string().min(1)).min(1).optional(),
            /**
             * Create catalogue topics with at most as many replicas as there are brokers (a
             * development cluster), logging each cap. Off: such a topic fails to be created.
             */
            capReplication: z.boolean().default(false),
            /** How often (at most) the catalogue topics are compared with the cluster for drift. */
            driftCheckMs: z.number().int().min(100).max(3_600_000).default(60_000),
          })
          .prefault({}),
        producer: z
          .object({
            /** Bytes of records waiting for the Kafka producer; past it callers get 503 + Retry-After. */
            maxQueuedBytes: z
              .number()
              .int()
              .min(MIB)
              .default(64 * MIB),
          })
          .prefault({}),
      })
      .prefault({}),
    /** The bridge's own HTTPS listener (else plain HTTP: put it behind a TLS-terminating proxy). */
    tls: z
      .object({
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
      })
      .optional(),
    kafkaRest: z
      .object({
        enabled: z.boolean().default(true),
        /** The single full-access login (backward compatible); more in `credentials`. */
        username: z
          .string()
          .min(1)
          .regex(/^[^:]+$/, "must not contain ':'")
          .optional(),
        password: secrets.optional(),
        credentials: z.array(kafkaRestCredential).default([]),
        consumerIdleTimeoutMs: z.number().int().min(1000).default(120_000),
        maxConsumerInstances: z.number().int().min(1).default(200),
        maxBodyBytes: z.number().int().min(1024).default(MIB),
        /** Bytes of request bodies all `/kafka` calls hold at once (>= maxBodyBytes). */
        bodyBudgetBytes: z
          .number()
          .int()
          .min(1024)
          .default(16 * MIB),
        /** Partitions in one `/fetch`, topics in one `/consume`. */
        maxPartitionsPerRequest: z.number().int().min(1).max(10_000).default(64),
        /** Record bytes (keys, values, headers) in one `/fetch` or `/consume` answer. */
        maxResponseBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(8 * MIB),
      })
      .prefault({}),
    redisRest: redisRestConfigSchema.prefault({}),
    /** `/healthz`: probes run at most once per `cacheMs`; callers in between get the last report. */
    health: z
      .object({
        cacheMs: z.number().int().min(0).max(60_000).default(2000),
        /** Longest one probe (Kafka metadata, Redis PING) may take before it counts as unavailable. */
        timeoutMs: z.number().int().min(100).max(60_000).default(3000),
      })
      .prefault({}),
    metrics: z
      .object({
        /** The kafka_exporter metrics on `/metrics`, collected on scrape with their own admin client. */
        kafka: z
          .object({
            enabled: z.boolean().default(true),
            /** A collection is reused for this long: a scrape storm costs Kafka one collection per period. */
            cacheMs: z.number().int().min(0).max(300_000).default(5000),
            /** Longest a scrape waits for a collection before it answers with the last one. */
            timeoutMs: z.number().int().min(100).max(60_000).default(4000),
          })
          .prefault({}),
      })
      .prefault({}),
    /** `GET /v1/topics/{topic}/events` and `/stream` (SSE, WebSocket), for Kafka REST logins that may read the topic. */
    topicEvents: z
      .object({
        enabled: z.boolean().default(true),
        /** Largest `limit` of `/events`. */
        maxLimit: z.number().int().min(1).max(1000).default(100),
        /** JSON bytes of events in one `/events` answer. */
        maxResponseBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(MIB),
        /** Streams (SSE and WebSocket) open at once; 503 past it. */
        maxStreams: z.number().int().min(1).max(100_000).default(500),
        /** An SSE comment or a WebSocket ping this often. */
        heartbeatSeconds: z.number().int().min(1).max(300).default(15),
        /** Bytes a stream may have waiting for a slow client before it is dropped. */
        maxBufferedBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(MIB),
        /** How long the shared read loop waits at the broker when every stream is at the log end. */
        pollWaitMs: z.number().int().min(50).max(5000).default(500),
        /** A dropped or closed stream's socket is destroyed after this long if the client does not read the end. */
        closeGraceMs: z.number().int().min(0).max(60_000).default(5000),
      })
      .prefault({}),

    mirror: z
      .object({
        /** Push: the kafka-mirror Worker posts signed batches to `POST /v1/mirror`. One value or a list (rotation). */
        secret: secrets.optional(),
        /** Where seen nonces are kept (replay protection, shared by every bridge); default `redisRest.url`. */
        nonceRedisUrl: z.string().url().optional(),
        /** Key prefix of the nonces; inside `redisRest.keyPatterns` when the gateway's Redis user keeps them. */
        nonceKeyPrefix: z.string().min(1).default("edgebus:mirror-nonce:"),
        mode: z.enum(["binary", "structured"]).default("binary"),
        toleranceSeconds: z.number().int().min(1).max(3600).default(300),
        /** 100 events of the producer's largest size (~128 kB) must fit. */
        maxBodyBytes: z
          .number()
          .int()
          .min(1024)
          .default(16 * MIB),
        /** Bytes of request bodies all mirror calls hold at once (>= maxBodyBytes). */
        bodyBudgetBytes: z
          .number()
          .int()
          .min(1024)
          .default(32 * MIB),
        include: z.array(z.string()).default([]),
        exclude: z.array(z.string()).default([]),
        rename: z.array(z.object({ from: z.string().min(1), to: z.string().min(1) })).default([]),
        /**
         * Push: the brokers every mirrored event is written into (mirror/targets/config-schema.ts);
         * `mode`, `include`, `exclude`, `rename` above are each target's defaults. Absent: Kafka only.
         */
        targets: z.array(mirrorTargetSchema).min(1).optional(),
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
    const rest = config.kafkaRest;
    if (rest.username !== undefined && rest.password === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["kafkaRest", "password"],
        message: "required with username (BRIDGE_KAFKA_REST_PASSWORD)",
      });
    }
    if (rest.enabled && kafkaRestCredentialsOf(config).length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["kafkaRest"],
        message:
          "username and password are required (BRIDGE_KAFKA_REST_USERNAME / BRIDGE_KAFKA_REST_PASSWORD), or credentials (BRIDGE_KAFKA_REST_CREDENTIALS), or set enabled: false",
      });
    }
    const names = kafkaRestCredentialsOf(config).map((c) => c.username);
    const repeated = names.filter((name, i) => names.indexOf(name) !== i);
    if (repeated.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["kafkaRest", "credentials"],
        message: `each username once: ${[...new Set(repeated)].join(", ")} appears more than once (list every valid password under one entry)`,
      });
    }
    if (rest.bodyBudgetBytes < rest.maxBodyBytes) {
      ctx.addIssue({
        code: "custom",
        path: ["kafkaRest", "bodyBudgetBytes"],
        message: "must be at least kafkaRest.maxBodyBytes",
      });
    }
    if (config.mirror.bodyBudgetBytes < config.mirror.maxBodyBytes) {
      ctx.addIssue({
        code: "custom",
        path: ["mirror", "bodyBudgetBytes"],
        message: "must be at least mirror.maxBodyBytes",
      });
    }
    for (const problem of targetListProblems(config.mirror.targets ?? [])) {
      ctx.addIssue({ code: "custom", path: ["mirror", "targets", ...problem.path], message: problem.message });
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

/**
 * Every Kafka REST login: the single `username`/`password` (full access: every topic and group,
 * as before there were scopes) first, then `credentials`.
 */
export function kafkaRestCredentialsOf(config: {
  readonly kafkaRest: {
    readonly username?: string | undefined;
    readonly password?: string[] | undefined;
    readonly credentials: readonly KafkaRestCredentialConfig[];
  };
}): KafkaRestCredentialConfig[] {
  const { username, password, credentials } = config.kafkaRest;
  const single: KafkaRestCredentialConfig[] =
    username !== undefined && password !== undefined
      ? [{ username, password, produce: ["*"], fetch: ["*"], groups: ["*"] }]
      : [];
  return [...single, ...credentials];
}

/** The Redis that keeps the mirror's nonces. */
export function mirrorNonceRedisUrl(config: {
  readonly mirror: { readonly nonceRedisUrl?: string | undefined };
  readonly redisRest: { readonly url: string };
}): string {
  return config.mirror.nonceRedisUrl ?? config.redisRest.url;
}

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
  if (env.BRIDGE_KAFKA_REST_PASSWORD_PREVIOUS) {
    section("kafkaRest").password = [...asList(section("kafkaRest").password), env.BRIDGE_KAFKA_REST_PASSWORD_PREVIOUS];
  }
  if (env.BRIDGE_KAFKA_REST_CREDENTIALS) {
    section("kafkaRest").credentials = jsonArray("BRIDGE_KAFKA_REST_CREDENTIALS", env.BRIDGE_KAFKA_REST_CREDENTIALS);
  }
  if (env.REDIS_URL) section("redisRest").url = env.REDIS_URL;
  if (env.BRIDGE_REDIS_REST_TOKEN) section("redisRest").token = env.BRIDGE_REDIS_REST_TOKEN;
  if (env.BRIDGE_REDIS_REST_TOKEN_PREVIOUS) {
    section("redisRest").token = [...asList(section("redisRest").token), env.BRIDGE_REDIS_REST_TOKEN_PREVIOUS];
  }
  if (env.BRIDGE_REDIS_REST_READONLY_TOKEN) section("redisRest").readOnlyToken = env.BRIDGE_REDIS_REST_READONLY_TOKEN;
  if (env.BRIDGE_REDIS_REST_READONLY_TOKEN_PREVIOUS) {
    section("redisRest").readOnlyToken = [
      ...asList(section("redisRest").readOnlyToken),
      env.BRIDGE_REDIS_REST_READONLY_TOKEN_PREVIOUS,
    ];
  }
  if (env.BRIDGE_MIRROR_SECRET) section("mirror").secret = env.BRIDGE_MIRROR_SECRET;
  if (env.BRIDGE_MIRROR_SECRET_PREVIOUS) {
    section("mirror").secret = [...asList(section("mirror").secret), env.BRIDGE_MIRROR_SECRET_PREVIOUS];
  }
  if (env.BRIDGE_RABBITMQ_URL || env.BRIDGE_NATS_URL || env.BRIDGE_REDIS_STREAMS_URL) {
    withTargetEnvironment(section("mirror"), env);
  }
  if (env.BRIDGE_TLS_CERT_FILE || env.BRIDGE_TLS_KEY_FILE) {
    const tls = { ...((merged.tls as Record<string, unknown> | undefined) ?? {}) };
    if (env.BRIDGE_TLS_CERT_FILE) tls.certFile = env.BRIDGE_TLS_CERT_FILE;
    if (env.BRIDGE_TLS_KEY_FILE) tls.keyFile = env.BRIDGE_TLS_KEY_FILE;
    (merged as Record<string, unknown>).tls = tls;
  }
  return merged;
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function jsonArray(name: string, text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new EdgebusError("bad_request", `invalid bridge config: ${name} is not valid JSON`);
  }
  if (!Array.isArray(parsed))
    throw new EdgebusError("bad_request", `invalid bridge config: ${name} must be a JSON array`);
  return parsed;
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
