import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";
import { governmentCatalogue } from "../schemas/index.ts";
import type { BridgeConfig } from "./config.ts";
import { checkHealth } from "./health.ts";
import { answerClientError, notFoundResponse } from "./http-rejections.ts";
import type { KafkaConnection } from "./kafka/connection.ts";
import { createKafkaRestApp } from "./kafka-rest/app.ts";
import { createKafkaStack, type KafkaStack } from "./kafka-stack.ts";
import { BridgeMetrics } from "./metrics.ts";
import { MirrorPull } from "./mirror/mirror-pull.ts";
import { createMirrorRoute } from "./mirror/mirror-route.ts";
import { TopicMapping } from "./mirror/topic-mapping.ts";
import { createRedisRestApp } from "./redis-rest/app.ts";
import { connectGatewayRedis } from "./redis-rest/serve.ts";

const KNOWN_AREAS = new Set(["kafka", "redis", "v1", "healthz", "metrics"]);

export interface RunningBridge {
  /** e.g. `http://127.0.0.1:8788` */
  readonly url: string;
  readonly app: Hono;
  /** Stops accepting requests, stops the mirror pull, flushes the producer, closes every connection. */
  close(): Promise<void>;
}

export function kafkaConnectionOf(config: BridgeConfig): KafkaConnection {
  const tls = config.kafka.tls;
  return {
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    requestTimeoutMs: config.kafka.requestTimeoutMs,
    ...(config.kafka.sasl ? { sasl: config.kafka.sasl } : {}),
    ...(tls
      ? {
          tls: {
            ca: readPem("kafka.tls.caFile", tls.caFile),
            cert: readPem("kafka.tls.certFile", tls.certFile),
            key: readPem("kafka.tls.keyFile", tls.keyFile),
            rejectUnauthorized: tls.rejectUnauthorized,
          },
        }
      : {}),
  };
}

function readPem(field: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new EdgebusError("bad_request", `cannot read ${field} ${path}: ${(error as Error).message}`);
  }
}

/** Partition counts from the event catalogue (`schemas/`), for topics the bridge creates. */
function catalogueTopicPartitions(): (topic: string) => number | undefined {
  const counts = new Map(governmentCatalogue.topics().map((t) => [t.name, t.partitions]));
  return (topic) => counts.get(topic);
}

/**
 * The bridge's HTTP surface on one port: `/kafka` (Upstash Kafka REST), `/redis` (Upstash Redis
 * REST), `POST /v1/mirror`, `/healthz`, `/metrics`; plus the mirror pull when configured.
 * Each part is enabled by its config section; nothing here exits the process.
 */
export async function startBridge(config: BridgeConfig): Promise<RunningBridge> {
  const metrics = new BridgeMetrics();
  // No Kafka clients (and no Kafka health probe) when nothing uses Kafka, e.g. a Redis-only bridge.
  const usesKafka = config.kafkaRest.enabled || config.mirror.secret !== undefined || config.mirror.pull !== undefined;
  const kafka: KafkaStack | undefined = usesKafka
    ? createKafkaStack(
        kafkaConnectionOf(config),
        { ...config.kafka.topics, partitionsFor: catalogueTopicPartitions() },
        { idleTimeoutMs: config.kafkaRest.consumerIdleTimeoutMs, maxInstances: config.kafkaRest.maxConsumerInstances },
      )
    : undefined;
  const redis: Redis | undefined = config.redisRest.enabled ? connectGatewayRedis(config.redisRest.url) : undefined;
  const mapping = new TopicMapping(config.mirror);

  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    // A fixed label set: arbitrary request paths must not create unbounded metric series.
    const first = c.req.path.split("/")[1] ?? "";
    const area = KNOWN_AREAS.has(first) ? first : "other";
    metrics.inc("edgebus_bridge_http_requests_total", { area, status: `${Math.floor(c.res.status / 100)}xx` });
  });
  app.get("/healthz", async (c) => {
    const report = await checkHealth({
      ...(kafka ? { kafka: () => kafka.topics.admin.metadata({ topics: [], forceUpdate: true }) } : {}),
      ...(redis ? { redis: () => redis.ping() } : {}),
    });
    return c.json(report, report.status === "ok" ? 200 : 503);
  });
  app.get("/metrics", (c) => c.text(metrics.render(), 200, { "content-type": "text/plain; version=0.0.4" }));

  if (kafka && config.kafkaRest.enabled) {
    app.route(
      "/kafka",
      createKafkaRestApp({
        ...kafka,
        credentials: { username: config.kafkaRest.username as string, password: config.kafkaRest.password as string },
        limits: { maxBodyBytes: config.kafkaRest.maxBodyBytes },
        onProduced: (count) => metrics.inc("edgebus_bridge_kafka_rest_produced_total", {}, count),
      }),
    );
  }
  if (redis) app.route("/redis", createRedisRestApp({ redis, token: config.redisRest.token as string }));
  if (kafka && config.mirror.secret) {
    app.route(
      "/",
      createMirrorRoute({
        producer: kafka.producer,
        secret: config.mirror.secret,
        mapping,
        mode: config.mirror.mode,
        toleranceSeconds: config.mirror.toleranceSeconds,
        maxBodyBytes: config.mirror.maxBodyBytes,
        onResults: (results) => {
          for (const r of results) metrics.inc("edgebus_bridge_mirror_events_total", { status: r.status });
        },
      }),
    );
  }

  const pull =
    kafka && config.mirror.pull
      ? new MirrorPull({
          source: config.mirror.pull,
          producer: kafka.producer,
          mapping,
          onForwarded: (count) => metrics.inc("edgebus_bridge_mirror_pull_forwarded_total", {}, count),
        })
      : undefined;

  app.notFound(notFoundResponse);

  const server: ServerType = serve({ fetch: app.fetch, port: config.port, hostname: config.hostname });
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  pull?.start();
  const address = server.address() as AddressInfo;
  return {
    url: `http://${config.hostname}:${address.port}`,
    app,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections (the Upstash clients use them) would hold close() open forever.
      (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      await closed;
      await pull?.stop();
      await kafka?.close();
      await redis?.quit().catch(() => undefined);
    },
  };
}
