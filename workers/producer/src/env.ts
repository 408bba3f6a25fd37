/**
 * The producer's environment, validated once at the fetch boundary. Every setting and its
 * default lives here; `wrangler.toml` documents where each comes from (var, secret, binding).
 */
import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";
import type { QueueName } from "#shared/names.ts";
import { hyperdriveBinding } from "#shared/worker-bindings.ts";
import { type ApiKeyEntry, parseApiKeys } from "./auth/api-key-config.ts";

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

/** `[[hyperdrive]]` binding: only its connection string is used. */
const durableObjectNamespace = z.custom<DurableObjectNamespace>(
  (value) => typeof (value as { idFromName?: unknown } | null)?.idFromName === "function",
  "must be a Durable Object namespace binding (see [durable_objects] in wrangler.toml)",
);

/** Highest replay rate a deployment may configure: well under a queue's 5000 messages/s. */
export const MAX_REPLAY_RATE_PER_SECOND = 1000;

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
    // Admin API (dead letters, replay). Optional so a deployment without Postgres still publishes;
    // the admin routes then answer 503 naming the missing binding.
    HYPERDRIVE: hyperdriveBinding.optional(),
    REPLAY_JOBS: durableObjectNamespace.optional(),
    /** Messages per second a replay job sends: the default and the cap of a request's `rate_per_second`. */
    REPLAY_RATE_PER_SECOND: z.coerce.number().int().min(1).max(MAX_REPLAY_RATE_PER_SECOND).default(100),
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
  admin: {
    /** Postgres (through Hyperdrive); null without the HYPERDRIVE binding. */
    databaseUrl: string | null;
    /** The ReplayJobRunner Durable Object namespace; null without the REPLAY_JOBS binding. */
    replayJobs: DurableObjectNamespace | null;
    ratePerSecond: number;
  };
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
    admin: {
      databaseUrl: e.HYPERDRIVE?.connectionString ?? null,
      replayJobs: e.REPLAY_JOBS ?? null,
      ratePerSecond: e.REPLAY_RATE_PER_SECOND,
    },
  };
}
