/**
 * Everything a producer request handler talks to, built once per isolate and configuration in
 * the init middleware. Handlers receive capabilities and never construct clients themselves,
 * so tests can swap a publisher or a store without touching the routes.
 */
import type { CatalogueSet } from "#shared/catalogue/catalogue-set.ts";
import { createLogger } from "#shared/log.ts";
import type { Publisher } from "./brokers/publisher.ts";
import { QueuePublisher } from "./brokers/queue-publisher.ts";
import { UpstashKafkaPublisher } from "./brokers/upstash-kafka-publisher.ts";
import type { DedupStore } from "./dedup/dedup-store.ts";
import type { MemoryDedupStore } from "./dedup/memory-dedup-store.ts";
import { RedisDedupStore } from "./dedup/redis-dedup-store.ts";
import type { ProducerConfig } from "./env.ts";
import type { ProducerMetrics } from "./metrics.ts";
import { createProducerRedis } from "./redis-client.ts";
import { SubscriptionRouter } from "./subscriptions/subscription-router.ts";

export interface Capabilities {
  readonly config: ProducerConfig;
  /** The loaded catalogues (`EDGEBUS_CATALOGUES`); each type is routed by its own catalogue's routes. */
  readonly catalogue: CatalogueSet;
  /** Publishes to Cloudflare Queues; destinations are queue names. */
  readonly queues: Publisher;
  /** Publishes to Kafka topics; null when `UPSTASH_KAFKA_REST_URL` is unset. */
  readonly kafka: Publisher | null;
  /** Dedup records and the per-key rate limits, taken together (`DedupStore.beginMany`). */
  readonly dedup: DedupStore;
  readonly metrics: ProducerMetrics;
  /** Webhook subscriptions (cache, outbox, wake-ups); null without Postgres (HYPERDRIVE). */
  readonly subscriptions: SubscriptionRouter | null;
}

/** Replaces parts of the defaults (tests inject failing publishers or another catalogue). */
export type CapabilityOverrides = (config: ProducerConfig) => Partial<Omit<Capabilities, "config" | "metrics">>;

/** Stores that live in isolate memory when Redis is not configured, kept for the isolate's life. */
export interface IsolateFallbacks {
  dedup: MemoryDedupStore;
  warned: boolean;
}

export function buildCapabilities(
  config: ProducerConfig,
  metrics: ProducerMetrics,
  fallbacks: IsolateFallbacks,
  overrides?: CapabilityOverrides,
): Capabilities {
  const custom = overrides?.(config) ?? {};
  const log = createLogger({ component: "producer" });
  // Outside development the producer refuses to publish while these last (`readiness.ts`); the
  // settings at fault are logged here, once per isolate, and shown only to admin keys.
  for (const problem of config.problems) {
    log.log("error", `not ready to publish (${problem.code}): ${problem.message}`, {
      error_code: problem.code,
      note: `settings: ${problem.settings.join(", ")}`,
    });
  }
  let dedup: DedupStore;
  if (config.redis !== null) {
    const redis = createProducerRedis({ ...config.redis, timeoutMs: config.redisTimeoutMs });
    dedup = new RedisDedupStore(redis, undefined, config.redisTimeoutMs);
  } else {
    if (config.environment === "development" && !fallbacks.warned && custom.dedup === undefined) {
      fallbacks.warned = true;
      log.log(
        "warn",
        "UPSTASH_REDIS_REST_URL is not set: dedup and rate limits use isolate memory and are NOT shared between isolates",
      );
    }
    dedup = fallbacks.dedup;
  }
  return {
    config,
    metrics,
    catalogue: custom.catalogue ?? config.catalogues,
    queues: custom.queues ?? new QueuePublisher(config.queues),
    kafka:
      custom.kafka !== undefined
        ? custom.kafka
        : config.kafka === null
          ? null
          : new UpstashKafkaPublisher(config.kafka),
    dedup: custom.dedup ?? dedup,
    subscriptions:
      custom.subscriptions !== undefined
        ? custom.subscriptions
        : config.admin.databaseUrl === null
          ? null
          : new SubscriptionRouter({
              databaseUrl: config.admin.databaseUrl,
              ttlSeconds: config.webhooks.cacheSeconds,
              wakeQueue: config.webhooks.wakeQueue,
            }),
  };
}
