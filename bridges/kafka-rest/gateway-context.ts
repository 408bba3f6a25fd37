import type { BodyBudget } from "../http/bounded-body.ts";
import type { PartitionReader } from "../kafka/partition-reader.ts";
import type { RecordProducer } from "../kafka/record-producer.ts";
import type { TopicAdmin } from "../kafka/topic-admin.ts";
import type { KafkaRestVariables } from "./basic-auth.ts";
import type { ConsumerInstanceSettings } from "./consumer-instance.ts";
import type { ConsumerRegistry } from "./consumer-registry.ts";

export interface KafkaRestLimits {
  readonly maxBodyBytes: number;
  readonly maxMessagesPerProduce: number;
  /** Longest a fetch/consume call may wait for data (ms); larger client timeouts are capped. */
  readonly maxWaitMs: number;
  readonly maxRecordsPerConsume: number;
  /** Bytes asked of Kafka per partition of a `/fetch` (lowered when many partitions share `maxResponseBytes`). */
  readonly maxFetchBytes: number;
  /** Partitions in one `/fetch`, topics in one `/consume`. */
  readonly maxPartitionsPerRequest: number;
  /** Record bytes (keys, values, headers) in one `/fetch` or `/consume` answer; at least one record is always returned. */
  readonly maxResponseBytes: number;
}

export const DEFAULT_KAFKA_REST_LIMITS: KafkaRestLimits = {
  maxBodyBytes: 1_048_576,
  maxMessagesPerProduce: 1000,
  maxWaitMs: 30_000,
  maxRecordsPerConsume: 500,
  maxFetchBytes: 1_048_576,
  maxPartitionsPerRequest: 64,
  maxResponseBytes: 8 * 1_048_576,
};

/** The Hono environment of the gateway's routes: the caller's scope, set by `basicAuth`. */
export type GatewayEnv = { Variables: KafkaRestVariables };

/** Upstash's defaults for an instance whose creating call sent no `Kafka-*` headers. */
export const DEFAULT_CONSUMER_SETTINGS: ConsumerInstanceSettings = {
  autoCommit: true,
  autoCommitIntervalMs: 5000,
  offsetReset: "latest",
  sessionTimeoutMs: 120_000,
};

/** What every gateway route gets: the Kafka clients, the limits and the metrics hook. */
export interface GatewayContext {
  readonly topics: TopicAdmin;
  readonly producer: RecordProducer;
  readonly reader: PartitionReader;
  readonly consumers: ConsumerRegistry;
  readonly limits: KafkaRestLimits;
  /** Bytes of request bodies all gateway calls hold at once. */
  readonly bodyBudget?: BodyBudget;
  readonly consumerDefaults: ConsumerInstanceSettings;
  readonly onProduced?: (count: number) => void;
}
