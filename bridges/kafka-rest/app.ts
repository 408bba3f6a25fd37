import { Hono } from "hono";
import { EdgebusError } from "#shared/errors.ts";
import type { BodyBudget } from "../http/bounded-body.ts";
import type { PartitionReader } from "../kafka/partition-reader.ts";
import type { RecordProducer } from "../kafka/record-producer.ts";
import type { TopicAdmin } from "../kafka/topic-admin.ts";
import { basicAuth, type KafkaRestLogins } from "./basic-auth.ts";
import type { ConsumerInstanceSettings } from "./consumer-instance.ts";
import type { ConsumerRegistry } from "./consumer-registry.ts";
import {
  DEFAULT_CONSUMER_SETTINGS,
  DEFAULT_KAFKA_REST_LIMITS,
  type GatewayContext,
  type GatewayEnv,
  type KafkaRestLimits,
} from "./gateway-context.ts";
import { registerConsumerGroups } from "./routes/consumer-groups.ts";
import { registerFetch } from "./routes/fetch.ts";
import { registerProduce } from "./routes/produce.ts";
import { registerTopicMetadata } from "./routes/topic-metadata.ts";
import { registerWebhook } from "./routes/webhook.ts";
import { upstashErrorResponse } from "./upstash-errors.ts";

export { DEFAULT_KAFKA_REST_LIMITS, type KafkaRestLimits } from "./gateway-context.ts";

export interface KafkaRestDeps {
  readonly topics: TopicAdmin;
  readonly producer: RecordProducer;
  readonly reader: PartitionReader;
  readonly consumers: ConsumerRegistry;
  /** One full-access `{username, password}`, or scoped logins (see `basic-auth.ts`). */
  readonly credentials: KafkaRestLogins;
  readonly limits?: Partial<KafkaRestLimits>;
  /** Bytes of request bodies all gateway calls hold at once; none = only `limits.maxBodyBytes`. */
  readonly bodyBudget?: BodyBudget;
  /** Defaults for instances whose creating call sent no `Kafka-*` headers (Upstash's defaults). */
  readonly consumerDefaults?: Partial<ConsumerInstanceSettings>;
  /** Called with every produced record count (metrics). */
  readonly onProduced?: (count: number) => void;
}

/**
 * The Upstash Kafka REST protocol over Apache Kafka, as `@upstash/kafka` 1.3.5 speaks it
 * (see docs/protocols.md and bridges/README.md). Mount it under a prefix,
 * e.g. `app.route("/kafka", createKafkaRestApp(deps))`; the client's `url` is then
 * `http://host/kafka`. Every response is JSON; errors are `{error, status, code}` with a 4xx for
 * bad input. One file per route group under `routes/`.
 *
 * Credentials are checked before any body is read; bodies are read with the bounded reader
 * (`bridges/http/bounded-body.ts`); each login is limited to its topic and group patterns (403).
 */
export function createKafkaRestApp(deps: KafkaRestDeps): Hono<GatewayEnv> {
  const ctx = gatewayContextOf(deps);
  const app = new Hono<GatewayEnv>();
  app.onError((error, c) => upstashErrorResponse(c, error));
  // The webhook alone may carry the login as `?user=&pass=` (senders that cannot do HTTP auth).
  app.use("*", basicAuth(deps.credentials, { queryCredentials: (c) => /\/webhook\/?$/.test(c.req.path) }));
  registerProduce(app, ctx);
  registerFetch(app, ctx);
  registerConsumerGroups(app, ctx);
  registerTopicMetadata(app, ctx);
  registerWebhook(app, ctx);
  // A mounted sub-app's notFound() is not consulted by the parent; a catch-all route is.
  app.all("*", () => {
    throw new EdgebusError("not_found", "no such Kafka REST route");
  });
  return app;
}

/** The routes' context from the gateway's dependencies (also the lean produce route's). */
export function gatewayContextOf(deps: KafkaRestDeps): GatewayContext {
  return {
    topics: deps.topics,
    producer: deps.producer,
    reader: deps.reader,
    consumers: deps.consumers,
    limits: { ...DEFAULT_KAFKA_REST_LIMITS, ...deps.limits },
    bodyBudget: deps.bodyBudget,
    consumerDefaults: { ...DEFAULT_CONSUMER_SETTINGS, ...deps.consumerDefaults },
    onProduced: deps.onProduced,
  };
}
