/**
 * The producer's environment, validated once at the fetch boundary. Every setting and its
 * default lives here; `wrangler.toml` documents where each comes from (var, secret, binding).
 */
import { z } from "zod";
import type { CatalogueSet } from "#shared/catalogue/catalogue-set.ts";
import { EdgebusError, isEdgebusError } from "#shared/errors.ts";
import type { QueueName } from "#shared/names.ts";
import { hyperdriveBinding } from "#shared/worker-bindings.ts";
import { loadCatalogues } from "../../../schemas/catalogues.ts";
import { unboundQueues } from "../../../schemas/route-file.ts";
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

/**
 * `development` keeps friendly fallbacks (isolate-memory dedup and rate limits, Kafka off when
 * half-configured); `staging` and `production` fail closed (`readiness.ts`). Unset = production.
 */
export const ENVIRONMENTS = ["development", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** What the rate limiter does when Redis fails or misses `REDIS_TIMEOUT_MS`: let the request through, or refuse it (503). */
export type RateLimitOnRedisFailure = "open" | "closed";

/** Why a deployment outside development must not publish: the code callers get, the settings at fault. */
export interface ConfigProblem {
  readonly code: "dedup_not_shared" | "kafka_misconfigured";
  readonly settings: readonly string[];
  readonly message: string;
}

const REDIS_SETTINGS = ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"] as const;
const KAFKA_SETTINGS = [
  "UPSTASH_KAFKA_REST_URL",
  "UPSTASH_KAFKA_REST_USERNAME",
  "UPSTASH_KAFKA_REST_PASSWORD",
] as const;

const envSchema = z
  .object({
    ENVIRONMENT: z.preprocess(
      (value) => (value === "" ? undefined : value),
      z.enum(ENVIRONMENTS, { message: `must be one of ${ENVIRONMENTS.join(", ")}` }).default("production"),
    ),
    EDGEBUS_API_KEYS: optionalText,
    /** Catalogues to load, comma-separated namespaces (`gov,commerce,learning`); default `gov`. */
    EDGEBUS_CATALOGUES: optionalText,
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
    // Webhook subscriptions (docs/webhooks.md): the wake-up queue of the webhooks Worker, how long
    // an isolate keeps the subscription list, and the target checks.
    Q_WEBHOOKS: queueBinding.optional(),
    SUBSCRIPTION_CACHE_SECONDS: z.preprocess(
      (value) => (value === "" ? undefined : value),
      z.coerce.number().int().min(1).max(60).default(5),
    ),
    /** Development only: subscriptions may target http:// and private or loopback hosts (a local receiver). */
    WEBHOOK_ALLOW_PRIVATE_TARGETS: z.preprocess(
      (value) => (value === "" ? undefined : value),
      z.enum(["true", "false"], { message: "must be true or false" }).default("false"),
    ),
    /** Hours the previous signing secret stays valid after a rotation. */
    WEBHOOK_SECRET_OVERLAP_HOURS: z.preprocess(
      (value) => (value === "" ? undefined : value),
      z.coerce.number().min(0).max(720).default(24),
    ),
    /** Deadline of every Redis call (dedup, rate limits), in milliseconds. */
    REDIS_TIMEOUT_MS: z.preprocess(
      (value) => (value === "" ? undefined : value),
      z.coerce.number().int().min(50).max(30_000).default(1000),
    ),
    /** Default: `closed` outside development, `open` in development. */
    RATE_LIMIT_ON_REDIS_FAILURE: z.preprocess(
      (value) => (value === "" ? undefined : value),
      z.enum(["open", "closed"], { message: "must be open or closed" }).optional(),
    ),
    /** Operator console (`console/`): HMAC key of its session cookies, at least 32 characters. */
    CONSOLE_SESSION_SECRET: z.preprocess(
      (value) => (value === "" ? undefined : value),
      z.string().min(32, "must be at least 32 characters (e.g. openssl rand -base64 32)").optional(),
    ),
    /** The bridge the console reads topic events from; default: UPSTASH_KAFKA_REST_URL without its `/kafka`. */
    CONSOLE_BRIDGE_URL: optionalUrl,
  })
  .superRefine((env, ctx) => {
    if (env.WEBHOOK_ALLOW_PRIVATE_TARGETS === "true" && env.ENVIRONMENT !== "development") {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_ALLOW_PRIVATE_TARGETS"],
        message: "may be true only in development (it lets subscriptions reach private and loopback hosts)",
      });
    }
    // Outside development a half-configured Redis or Kafka is a readiness problem (503 with a code,
    // details to admins and the log), not a 500 naming settings to every caller.
    if (env.ENVIRONMENT !== "development") return;
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
  environment: Environment;
  /** Empty in development; otherwise why publishing is refused (`readiness.ts`). */
  problems: readonly ConfigProblem[];
  redisTimeoutMs: number;
  rateLimitOnRedisFailure: RateLimitOnRedisFailure;
  apiKeys: ApiKeyEntry[];
  /** The loaded catalogues (`EDGEBUS_CATALOGUES`): types, aliases, topics and routes. */
  catalogues: CatalogueSet;
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
  webhooks: {
    /** The webhooks Worker's wake-up queue; null without the Q_WEBHOOKS binding (its sweep still delivers). */
    wakeQueue: Queue | null;
    cacheSeconds: number;
    allowPrivateTargets: boolean;
    secretOverlapSeconds: number;
  };
  console: {
    /** `CONSOLE_SESSION_SECRET`; null: sign-in refused outside development (`console/session.ts`). */
    sessionSecret: string | null;
    /** Base URL of the bridge's `/v1/topics` routes; null: no live tail. */
    bridgeUrl: string | null;
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
  const queues = {
    "permits-citizen-sync": e.Q_PERMITS_CITIZEN_SYNC,
    "revenue-citizen-sync": e.Q_REVENUE_CITIZEN_SYNC,
    notifications: e.Q_NOTIFICATIONS,
    "kafka-mirror": e.Q_KAFKA_MIRROR,
    archive: e.Q_ARCHIVE,
  };
  return {
    environment: e.ENVIRONMENT,
    problems: e.ENVIRONMENT === "development" ? [] : readinessProblems(e),
    redisTimeoutMs: e.REDIS_TIMEOUT_MS,
    rateLimitOnRedisFailure: e.RATE_LIMIT_ON_REDIS_FAILURE ?? (e.ENVIRONMENT === "development" ? "open" : "closed"),
    apiKeys: parseApiKeys(e.EDGEBUS_API_KEYS),
    catalogues: catalogueSetting(e.EDGEBUS_CATALOGUES, Object.keys(queues)),
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
    queues,
    admin: {
      databaseUrl: e.HYPERDRIVE?.connectionString ?? null,
      replayJobs: e.REPLAY_JOBS ?? null,
      ratePerSecond: e.REPLAY_RATE_PER_SECOND,
    },
    webhooks: {
      wakeQueue: e.Q_WEBHOOKS ?? null,
      cacheSeconds: e.SUBSCRIPTION_CACHE_SECONDS,
      allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS === "true",
      secretOverlapSeconds: Math.round(e.WEBHOOK_SECRET_OVERLAP_HOURS * 3600),
    },
    console: {
      sessionSecret: e.CONSOLE_SESSION_SECRET ?? null,
      bridgeUrl:
        (e.CONSOLE_BRIDGE_URL ?? bridgeOfKafkaRest(e.UPSTASH_KAFKA_REST_URL) ?? null)?.replace(/\/+$/, "") ?? null,
    },
  };
}

/** The bridge serving a Kafka REST URL of the form `<bridge>/kafka`; undefined for any other URL. */
function bridgeOfKafkaRest(url: string | undefined): string | undefined {
  if (url === undefined || !/\/kafka\/?$/.test(new URL(url).pathname)) return undefined;
  return url.replace(/\/kafka\/?$/, "");
}

/**
 * The catalogues `EDGEBUS_CATALOGUES` names, refused (the Worker answers nothing but this error)
 * when a name is unknown, two catalogues collide, or a route sends to a queue with no binding.
 */
function catalogueSetting(setting: string | undefined, boundQueues: readonly string[]): CatalogueSet {
  let catalogues: CatalogueSet;
  try {
    catalogues = loadCatalogues(setting);
  } catch (error) {
    if (!isEdgebusError(error)) throw error;
    throw new EdgebusError("internal", `producer misconfigured: EDGEBUS_CATALOGUES: ${error.message}`, {
      details: error.details,
      retryable: false,
    });
  }
  const routes = catalogues.plugins().map((p) => ({ namespace: p.catalogue.namespace, rules: p.routes }));
  const problems = unboundQueues(routes, boundQueues);
  if (problems.length > 0) {
    throw new EdgebusError("internal", `producer misconfigured: ${problems.join("; ")}`, {
      details: { problems },
      retryable: false,
    });
  }
  return catalogues;
}

/** What keeps a staging or production deployment from publishing safely. */
function readinessProblems(e: z.output<typeof envSchema>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const missingRedis = REDIS_SETTINGS.filter((name) => e[name] === undefined);
  if (missingRedis.length > 0) {
    problems.push({
      code: "dedup_not_shared",
      settings: missingRedis,
      message: `dedup and rate limits would use isolate memory, which no other isolate sees (duplicates and limits would not hold): set ${missingRedis.join(" and ")}`,
    });
  }
  const missingKafka = KAFKA_SETTINGS.filter((name) => e[name] === undefined);
  if (missingKafka.length > 0 && missingKafka.length < KAFKA_SETTINGS.length) {
    problems.push({
      code: "kafka_misconfigured",
      settings: missingKafka,
      message: `Kafka is half-configured: set ${missingKafka.join(" and ")}, or unset every UPSTASH_KAFKA_REST_* setting to publish without Kafka`,
    });
  }
  return problems;
}
