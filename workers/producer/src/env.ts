/**
 * The producer's environment, validated once at the fetch boundary. Every setting and its
 * default lives here; `wrangler.toml` documents where each comes from (var, secret, binding).
 */
import { z } from "zod";
import { type ApiKeyEntry, parseApiKeys } from "../../../shared/src/auth/api-key-config.ts";
import { EdgebusError } from "../../../shared/src/errors.ts";
import type { QueueName } from "../../../shared/src/names.ts";

/** Unset and empty are the same thing (wrangler vars cannot be "unset" per environment). */
const optionalText = z.preprocess((value) => (value === "" ? undefined : value), z.string().optional());
const optionalUrl = z.preprocess(
  (value) => (value === "" ? undefined : value),
  z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
);
const queueBinding = z.custom<Queue>(
  (value) => typeof value === "object" && value !== null && typeof (value as Queue).send === "function",
  "must be a Queue producer binding (see [[queues.producers]] in wrangler.toml)",
);

const envSchema = z
  .object({
    ENVIRONMENT: z.string().default("production"),
    EDGEBUS_API_KEYS: optionalText,
    UPSTASH_REDIS_REST_URL: optionalUrl,
    UPSTASH_REDIS_REST_TOKEN: optionalText,
    UPSTASH_KAFKA_REST_URL: optionalUrl,
    UPSTASH_KAFKA_REST_USERNAME: optionalText,
    UPSTASH_KAFKA_REST_PASSWORD: optionalText,
    Q_PERMITS_CITIZEN_SYNC: queueBinding,
    Q_REVENUE_CITIZEN_SYNC: queueBinding,
    Q_NOTIFICATIONS: queueBinding,
    Q_KAFKA_MIRROR: queueBinding,
    Q_ARCHIVE: queueBinding,
  })
  .superRefine((env, ctx) => {
    if (env.UPSTASH_REDIS_REST_URL !== undefined && env.UPSTASH_REDIS_REST_TOKEN === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["UPSTASH_REDIS_REST_TOKEN"],
        message: "is required with UPSTASH_REDIS_REST_URL (wrangler secret put UPSTASH_REDIS_REST_TOKEN)",
      });
    }
    if (env.UPSTASH_KAFKA_REST_URL !== undefined) {
      for (const name of ["UPSTASH_KAFKA_REST_USERNAME", "UPSTASH_KAFKA_REST_PASSWORD"] as const) {
        if (env[name] === undefined) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `is required with UPSTASH_KAFKA_REST_URL (wrangler secret put ${name})`,
          });
        }
      }
    }
  });

export type ProducerBindings = z.input<typeof envSchema>;

export interface ProducerConfig {
  environment: string;
  apiKeys: ApiKeyEntry[];
  redis: { url: string; token: string } | null;
  kafka: { url: string; username: string; password: string } | null;
  queues: Record<QueueName, Queue>;
}

/** Parses the Worker env; a misconfiguration is an operator error and names the setting. */
export function parseProducerEnv(env: unknown): ProducerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new EdgebusError("internal", `producer misconfigured: ${problems.join("; ")}`, {
      details: { problems },
      retryable: false,
    });
  }
  const e = parsed.data;
  return {
    environment: e.ENVIRONMENT,
    apiKeys: parseApiKeys(e.EDGEBUS_API_KEYS),
    redis:
      e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN
        ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN }
        : null,
    kafka:
      e.UPSTASH_KAFKA_REST_URL && e.UPSTASH_KAFKA_REST_USERNAME && e.UPSTASH_KAFKA_REST_PASSWORD
        ? {
            url: e.UPSTASH_KAFKA_REST_URL,
            username: e.UPSTASH_KAFKA_REST_USERNAME,
            password: e.UPSTASH_KAFKA_REST_PASSWORD,
          }
        : null,
    queues: {
      "permits-citizen-sync": e.Q_PERMITS_CITIZEN_SYNC,
      "revenue-citizen-sync": e.Q_REVENUE_CITIZEN_SYNC,
      notifications: e.Q_NOTIFICATIONS,
      "kafka-mirror": e.Q_KAFKA_MIRROR,
      archive: e.Q_ARCHIVE,
    },
  };
}
