import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createSecureContext } from "node:tls";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Redis } from "ioredis";
import { WebSocketServer } from "ws";
import { EdgebusError } from "#shared/errors.ts";
import { type BridgeConfig, kafkaRestCredentialsOf, mirrorNonceRedisUrl } from "./config.ts";
import { globMatcher } from "./glob.ts";
import { CachedHealth } from "./health.ts";
import { BodyBudget, closeUnreadBodies } from "./http/bounded-body.ts";
import { type LeanRoute, leanRoutesServer } from "./http/lean-routes.ts";
import { answerClientError, notFoundResponse } from "./http-rejections.ts";
import { bridgeCatalogues, topicSettingsOf } from "./kafka/catalogue-topics.ts";
import { ClusterStats } from "./kafka/cluster-stats.ts";
import type { KafkaConnection } from "./kafka/connection.ts";
import { PartitionTail } from "./kafka/partition-tail.ts";
import { TopicDriftMonitor } from "./kafka/topic-drift-monitor.ts";
import type { TopicSettings } from "./kafka/topic-settings.ts";
import { KafkaMetrics } from "./kafka-metrics.ts";
import { createKafkaRestApp, type KafkaRestDeps } from "./kafka-rest/app.ts";
import { createKafkaRestLeanRoutes } from "./kafka-rest/lean-produce.ts";
import { createKafkaStack, type KafkaStack } from "./kafka-stack.ts";
import { BridgeMetrics, type MetricFamily } from "./metrics.ts";
import { MirrorPull } from "./mirror/mirror-pull.ts";
import { createMirrorLeanRoute, createMirrorRoute, type MirrorRouteOptions } from "./mirror/mirror-route.ts";
import { type NonceStore, RedisNonceStore } from "./mirror/nonce-store.ts";
import { createMirrorTargets, mirrorTargetsOf, targetMapping } from "./mirror/targets/create-targets.ts";
import type { MirrorTarget } from "./mirror/targets/mirror-target.ts";
import { TopicMapping } from "./mirror/topic-mapping.ts";
import { ProcessMetrics } from "./process-metrics.ts";
import { createRedisRestGateway } from "./redis-rest/app.ts";
import { openGatewayRedis } from "./redis-rest/serve.ts";
import { RedisSubscriptions } from "./redis-rest/subscriptions.ts";
import { createTopicEvents, type TopicEvents } from "./topic-events/routes.ts";
import { StreamHub } from "./topic-events/stream-hub.ts";

/**
 * The `area` label of the request metrics, from a fixed set: arbitrary request paths must not
 * create unbounded metric series. `/v1/mirror` is `mirror`, `/v1/topics/...` is `topics`.
 */
export function areaOf(path: string): string {
  const [, first = "", second = ""] = path.split("/");
  if (first === "v1") return second === "mirror" ? "mirror" : second === "topics" ? "topics" : "other";
  return ["kafka", "redis", "healthz", "metrics"].includes(first) ? first : "other";
}

export interface RunningBridge {
  /** e.g. `http://127.0.0.1:8788` (`https://` when `tls` is configured) */
  readonly url: string;
  readonly app: Hono;
  /**
   * Reads `tls.certFile` and `tls.keyFile` again and serves them to new connections (SIGHUP in
   * bridges/main.ts). Throws, keeping the current certificate, when the files are unreadable or
   * do not form a key pair. Nothing to do without `tls`.
   */
  reloadTls(): void;
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

/** The catalogues' topics with their settings (`kafka.topics.catalogues`, default every shipped one). */
function catalogueTopicSettings(config: BridgeConfig): Map<string, TopicSettings> {
  return topicSettingsOf(bridgeCatalogues(config.kafka.topics.catalogues));
}

/**
 * Topics the bridge may create: the catalogue's, where the mirror's topic mapping sends them, and
 * `kafka.topics.createPatterns`. A typo or an attacker's name is a 404, never a new topic.
 */
function creatableTopics(
  config: BridgeConfig,
  mapping: TopicMapping,
  catalogueTopics: ReadonlyMap<string, TopicSettings>,
): (topic: string) => boolean {
  const known = new Set<string>();
  for (const name of catalogueTopics.keys()) {
    known.add(name);
    const mirrored = mapping.map(name);
    if (mirrored !== null) known.add(mirrored);
  }
  const extra = globMatcher(config.kafka.topics.createPatterns);
  return (topic) => known.has(topic) || extra(topic);
}

/** The bridge's certificate and key, checked to form a pair before they are used. */
function readServingTls(tls: NonNullable<BridgeConfig["tls"]>): { cert: string; key: string } {
  const pair = {
    cert: readPem("tls.certFile", tls.certFile) as string,
    key: readPem("tls.keyFile", tls.keyFile) as string,
  };
  try {
    createSecureContext(pair);
  } catch (error) {
    throw new EdgebusError(
      "bad_request",
      `tls.certFile and tls.keyFile are not a usable pair: ${(error as Error).message}`,
    );
  }
  return pair;
}

/**
 * The bridge's HTTP surface on one port: `/kafka` (Upstash Kafka REST), `/redis` (Upstash Redis
 * REST), `POST /v1/mirror`, `/healthz`, `/metrics`; plus the mirror pull when configured.
 * Each part is enabled by its config section; nothing here exits the process.
 */
export async function startBridge(config: BridgeConfig): Promise<RunningBridge> {
  const metrics = new BridgeMetrics();
  // First: refuses to start over an unrestricted Redis user before anything else is opened.
  const gatewayRedis = config.redisRest.enabled ? await openGatewayRedis(config.redisRest) : undefined;
  const redis: Redis | undefined = gatewayRedis?.redis;
  // No Kafka clients (and no Kafka health probe) when nothing uses Kafka, e.g. a Redis-only bridge.
  const targetConfigs = config.mirror.secret !== undefined ? mirrorTargetsOf(config.mirror) : [];
  const kafkaTarget = targetConfigs.find((t) => t.kind === "kafka");
  const usesKafka = config.kafkaRest.enabled || kafkaTarget !== undefined || config.mirror.pull !== undefined;
  // Where the mirror sends Kafka topics (the topics the bridge may create): the Kafka target's mapping.
  const mapping = kafkaTarget ? targetMapping(config.mirror, kafkaTarget) : new TopicMapping(config.mirror);
  // Read before anything connects: a missing or broken certificate stops the start.
  const servingTls = config.tls ? readServingTls(config.tls) : undefined;
  const catalogueTopics = catalogueTopicSettings(config);
  const kafka: KafkaStack | undefined = usesKafka
    ? createKafkaStack(
        kafkaConnectionOf(config),
        {
          ...config.kafka.topics,
          partitionsFor: (topic) => catalogueTopics.get(topic)?.partitions,
          settingsFor: (topic) => catalogueTopics.get(topic),
          mayCreate: creatableTopics(config, mapping, catalogueTopics),
        },
        { idleTimeoutMs: config.kafkaRest.consumerIdleTimeoutMs, maxInstances: config.kafkaRest.maxConsumerInstances },
        { maxQueuedBytes: config.kafka.producer.maxQueuedBytes },
      )
    : undefined;
  const nonces: NonceStore | undefined = config.mirror.secret
    ? new RedisNonceStore(mirrorNonceRedisUrl(config), config.mirror.nonceKeyPrefix)
    : undefined;
  // The mirror's brokers (mirror.targets); each non-Kafka one connects in the background.
  const kafkaProbe = kafka ? () => kafka.topics.admin.metadata({ topics: [], forceUpdate: true }) : undefined;
  const targets: MirrorTarget[] = config.mirror.secret
    ? createMirrorTargets(
        config.mirror,
        kafka && kafkaProbe ? { producer: kafka.producer, probe: kafkaProbe } : undefined,
      )
    : [];

  const app = new Hono();
  // First: a refusal while the request body is still arriving closes the connection gently.
  app.use("*", closeUnreadBodies);
  // The request metrics; the lean routes (hot paths served without Hono, below) report here too.
  const answered = (path: string, status: number, seconds: number) => {
    const area = areaOf(path);
    metrics.inc("edgebus_bridge_http_requests_total", { area, status: `${Math.floor(status / 100)}xx` });
    metrics.observe("edgebus_bridge_http_request_duration_seconds", { area }, seconds);
  };
  const leanRoutes: LeanRoute[] = [];
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    answered(c.req.path, c.res.status, (performance.now() - started) / 1000);
  });
  const health = new CachedHealth(
    {
      ...(kafkaProbe ? { kafka: kafkaProbe } : {}),
      ...(redis ? { redis: () => redis.ping() } : {}),
      // Every mirror target but Kafka (the `kafka` check above covers it): `mirror:<name>`.
      ...Object.fromEntries(
        targets.filter((t) => t.kind !== "kafka").map((t) => [`mirror:${t.name}`, () => t.probe()]),
      ),
    },
    config.health,
  );
  // Catalogue topics whose settings differ from the cluster's: logged, in /healthz and /metrics; never changed here.
  const topicDrift = kafka
    ? new TopicDriftMonitor(kafka.topics.admin, catalogueTopics, {
        capReplication: config.kafka.topics.capReplication,
        defaultReplication: config.kafka.topics.replicationFactor,
        cacheMs: config.kafka.topics.driftCheckMs,
      })
    : undefined;
  void topicDrift?.report();
  app.get("/healthz", async (c) => {
    const report = await health.report();
    const topics = await topicDrift?.latest(config.health.timeoutMs);
    return c.json({ ...report, ...(topics ? { topics } : {}) }, report.status === "ok" ? 200 : 503);
  });
  const clusterStats =
    kafka && config.metrics.kafka.enabled
      ? new ClusterStats(kafkaConnectionOf(config), config.metrics.kafka.timeoutMs)
      : undefined;
  const kafkaMetrics = clusterStats
    ? new KafkaMetrics(
        () => clusterStats.collect(),
        config.metrics.kafka,
        (stage) => metrics.inc("edgebus_bridge_kafka_metrics_errors_total", { stage }),
      )
    : undefined;
  const processMetrics = new ProcessMetrics();
  app.get("/metrics", async (c) => {
    const families = [
      ...((await kafkaMetrics?.families()) ?? []),
      ...((await topicDrift?.families()) ?? []),
      ...targetFamilies(targets),
      ...(await processMetrics.families()),
    ];
    return c.text(metrics.render(families), 200, { "content-type": "text/plain; version=0.0.4" });
  });

  if (kafka && config.kafkaRest.enabled) {
    const gateway: KafkaRestDeps = {
      ...kafka,
      credentials: kafkaRestCredentialsOf(config).map((c) => ({ ...c, passwords: c.password })),
      limits: {
        maxBodyBytes: config.kafkaRest.maxBodyBytes,
        maxPartitionsPerRequest: config.kafkaRest.maxPartitionsPerRequest,
        maxResponseBytes: config.kafkaRest.maxResponseBytes,
      },
      bodyBudget: new BodyBudget(config.kafkaRest.bodyBudgetBytes),
      onProduced: (count) => metrics.inc("edgebus_bridge_kafka_rest_produced_total", {}, count),
    };
    app.route("/kafka", createKafkaRestApp(gateway));
    // POST /kafka/produce (produce and produceMany) without Hono; same answers, same body budget.
    leanRoutes.push(...createKafkaRestLeanRoutes(gateway, "/kafka"));
  }
  let redisSubscriptions: RedisSubscriptions | undefined;
  if (gatewayRedis) {
    const { token, maxTransactionConnections, allowCommands, allowUnrestrictedUser } = config.redisRest;
    const { maxBodyBytes, bodyBudgetBytes, readOnlyToken, allowQueryToken, subscriptions } = config.redisRest;
    redisSubscriptions = subscriptions.enabled
      ? new RedisSubscriptions(gatewayRedis.redis, {
          maxStreams: subscriptions.maxStreams,
          maxChannelsPerStream: subscriptions.maxChannelsPerStream,
          maxBufferedBytes: subscriptions.maxBufferedBytes,
          heartbeatMs: subscriptions.heartbeatSeconds * 1000,
        })
      : undefined;
    const redisRest = createRedisRestGateway({
      redis: gatewayRedis.redis,
      userGuard: gatewayRedis.guard,
      maxRequestBytes: maxBodyBytes,
      bodyBudget: new BodyBudget(bodyBudgetBytes),
      token: token as string[],
      readOnlyTokens: readOnlyToken ?? [],
      allowQueryToken,
      subscriptions: redisSubscriptions ?? false,
      maxTransactionConnections,
      allowCommands,
      allowUnrestrictedUser,
    });
    app.route("/redis", redisRest.app);
    // POST /redis, /redis/pipeline and /redis/multi-exec without Hono; same answers, same state.
    leanRoutes.push(...redisRest.leanRoutes("/redis"));
  }
  if (config.mirror.secret) {
    const mirrorOptions: MirrorRouteOptions = {
      targets,
      secret: config.mirror.secret,
      toleranceSeconds: config.mirror.toleranceSeconds,
      maxBodyBytes: config.mirror.maxBodyBytes,
      bodyBudget: new BodyBudget(config.mirror.bodyBudgetBytes),
      nonces,
      onResults: (results) => {
        for (const r of results) metrics.inc("edgebus_bridge_mirror_events_total", { status: r.status });
      },
      onAppended: (seconds) => metrics.observe("edgebus_bridge_mirror_delay_seconds", {}, seconds),
      onTarget: ({ target, outcomes, seconds }) => {
        const labels = { target: target.name };
        let published = 0;
        let duplicates = 0;
        for (const outcome of outcomes) {
          if (!outcome.ok) {
            metrics.inc("edgebus_bridge_mirror_target_failures_total", { ...labels, code: outcome.error.code });
            continue;
          }
          published += 1;
          if (outcome.duplicate) duplicates += 1;
        }
        if (published > 0) metrics.inc("edgebus_bridge_mirror_target_published_total", labels, published);
        if (duplicates > 0) metrics.inc("edgebus_bridge_mirror_target_duplicates_total", labels, duplicates);
        metrics.observe("edgebus_bridge_mirror_target_confirm_seconds", labels, seconds);
      },
    };
    app.route("/", createMirrorRoute(mirrorOptions));
    // POST /v1/mirror without Hono; same answers, same nonce store and body budget.
    leanRoutes.push(createMirrorLeanRoute(mirrorOptions));
  }

  // The latest events and live streams of a topic, for the Kafka REST logins (their fetch patterns).
  let topicEvents: TopicEvents | undefined;
  let streamTails: { lookup: PartitionTail; tail: PartitionTail; hub: StreamHub } | undefined;
  if (kafka && config.kafkaRest.enabled && config.topicEvents.enabled) {
    const settings = config.topicEvents;
    const lookup = new PartitionTail(kafkaConnectionOf(config), "events");
    const tail = new PartitionTail(kafkaConnectionOf(config), "streams");
    const hub = new StreamHub(tail, { pollWaitMs: settings.pollWaitMs, partitionMaxBytes: 1_048_576 });
    streamTails = { lookup, tail, hub };
    topicEvents = createTopicEvents({
      lookup,
      hub,
      credentials: kafkaRestCredentialsOf(config).map((c) => ({ ...c, passwords: c.password })),
      limits: {
        maxLimit: settings.maxLimit,
        maxResponseBytes: settings.maxResponseBytes,
        maxStreams: settings.maxStreams,
        heartbeatMs: settings.heartbeatSeconds * 1000,
        maxBufferedBytes: settings.maxBufferedBytes,
        closeGraceMs: settings.closeGraceMs,
      },
      onStreamOpened: (protocol) => metrics.add("edgebus_bridge_streams_open", { protocol }, 1),
      onStreamClosed: (protocol, reason) => {
        metrics.add("edgebus_bridge_streams_open", { protocol }, -1);
        metrics.inc("edgebus_bridge_streams_closed_total", { protocol, reason });
      },
    });
    app.route("/", topicEvents.app);
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

  // autoCleanupIncoming off: the server's own "read and discard up to 64 MiB of an unread body"
  // is replaced by closeUnreadBodies, which reads none of it (bridges/http/bounded-body.ts).
  // WebSocket upgrades (topic streams) through @hono/node-server's own support; incoming messages
  // are ignored, so they are kept small.
  const websocket = topicEvents ? { server: new WebSocketServer({ noServer: true, maxPayload: 4096 }) } : undefined;
  const listen = {
    fetch: app.fetch,
    port: config.port,
    hostname: config.hostname,
    autoCleanupIncoming: false,
    ...(websocket ? { websocket } : {}),
  };
  // The lean routes see every request first and hand the others to Hono (bridges/http/lean-routes.ts).
  const server: ServerType = servingTls
    ? serve({
        ...listen,
        createServer: leanRoutesServer(createHttpsServer, leanRoutes, { onAnswered: answered }),
        serverOptions: servingTls,
      })
    : serve({ ...listen, createServer: leanRoutesServer(createHttpServer, leanRoutes, { onAnswered: answered }) });
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  pull?.start();
  const address = server.address() as AddressInfo;
  return {
    url: `${servingTls ? "https" : "http"}://${config.hostname}:${address.port}`,
    app,
    reloadTls() {
      if (!config.tls) return;
      (server as HttpsServer).setSecureContext(readServingTls(config.tls));
    },
    async close() {
      // Streams first: an open SSE response would hold server.close() open forever.
      topicEvents?.closeAll();
      redisSubscriptions?.closeAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections (the Upstash clients use them) would hold close() open forever.
      (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      await closed;
      await pull?.stop();
      await streamTails?.hub.close();
      await Promise.allSettled([streamTails?.lookup.close(), streamTails?.tail.close(), clusterStats?.close()]);
      await Promise.allSettled(targets.map((t) => t.close()));
      await kafka?.close();
      await nonces?.close();
      await redis?.quit().catch(() => undefined);
      processMetrics.close();
    },
  };
}

/** `edgebus_bridge_mirror_target_up`: 1 while a mirror target holds a working connection, per target. */
function targetFamilies(targets: readonly MirrorTarget[]): MetricFamily[] {
  if (targets.length === 0) return [];
  return [
    {
      name: "edgebus_bridge_mirror_target_up",
      help: "1 while the mirror target holds a working connection to its broker, else 0",
      type: "gauge",
      samples: targets.map((t) => ({ labels: { target: t.name, kind: t.kind }, value: t.connected ? 1 : 0 })),
    },
  ];
}
