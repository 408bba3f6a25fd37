import { createLogger } from "#shared/log.ts";
import type { ClusterSnapshot } from "./kafka/cluster-stats.ts";
import type { MetricFamily } from "./metrics.ts";

const log = createLogger({ component: "kafka-metrics" });

export interface KafkaMetricsOptions {
  /** A collection younger than this is served again without asking Kafka (ms). */
  readonly cacheMs: number;
  /** Longest a scrape waits for a collection; then it answers with the last one it has (ms). */
  readonly timeoutMs: number;
}

/**
 * The kafka_exporter metrics (`kafka_brokers`, `kafka_topic_partition_current_offset`,
 * `kafka_topic_partition_under_replicated_partition`, `kafka_consumergroup_current_offset`,
 * `kafka_consumergroup_lag`), collected on scrape and cached, so a scrape storm costs the brokers
 * one collection per `cacheMs`:
 *
 * - at most one collection runs at a time; concurrent scrapes share it;
 * - a scrape waits at most `timeoutMs` for it, then answers with the last collection it has
 *   (possibly none) and counts `stage="timeout"`; the collection goes on and fills the cache;
 * - a collection that failed in part (a broker down) serves what it got, and each failed part
 *   counts once in `edgebus_bridge_kafka_metrics_errors_total{stage}`.
 */
export class KafkaMetrics {
  readonly #collect: () => Promise<ClusterSnapshot>;
  readonly #options: KafkaMetricsOptions;
  readonly #onError: (stage: string) => void;
  #last: { at: number; snapshot: ClusterSnapshot } | undefined;
  #running: Promise<void> | undefined;

  constructor(
    collect: () => Promise<ClusterSnapshot>,
    options: KafkaMetricsOptions,
    onError: (stage: string) => void = () => {},
  ) {
    this.#collect = collect;
    this.#options = options;
    this.#onError = onError;
  }

  async families(): Promise<MetricFamily[]> {
    const last = this.#last;
    if (last && Date.now() - last.at < this.#options.cacheMs) return toFamilies(last.snapshot);
    const running = this.#start();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      running.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#options.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) this.#onError("timeout");
    return this.#last ? toFamilies(this.#last.snapshot) : [];
  }

  #start(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#collect()
        .then((snapshot) => {
          this.#last = { at: Date.now(), snapshot };
          for (const error of snapshot.errors) {
            this.#onError(error.stage);
            log.log("warn", "Kafka metrics collected in part", { note: error.stage, error_message: error.message });
          }
        })
        .catch((error: unknown) => {
          this.#onError("metadata");
          log.log("warn", "Kafka metrics not collected", { error_message: String(error) });
        })
        .finally(() => {
          this.#running = undefined;
        });
    }
    return this.#running;
  }
}

/** The kafka_exporter families of one collection; label values are strings, partitions included. */
export function toFamilies(snapshot: ClusterSnapshot): MetricFamily[] {
  const families: MetricFamily[] = [];
  if (snapshot.brokers !== undefined) {
    families.push({
      name: "kafka_brokers",
      help: "Number of brokers in the Kafka cluster metadata",
      type: "gauge",
      samples: [{ labels: {}, value: snapshot.brokers }],
    });
  }
  families.push({
    name: "kafka_topic_partition_current_offset",
    help: "Log end offset of a topic partition",
    type: "gauge",
    samples: snapshot.logEndOffsets.map((p) => ({
      labels: { topic: p.topic, partition: String(p.partition) },
      value: p.offset,
    })),
  });
  families.push({
    name: "kafka_topic_partition_under_replicated_partition",
    help: "1 when the topic partition has fewer in-sync replicas than replicas",
    type: "gauge",
    samples: snapshot.partitions.map((p) => ({
      labels: { topic: p.topic, partition: String(p.partition) },
      value: p.inSyncReplicas < p.replicas ? 1 : 0,
    })),
  });
  const logEnd = new Map(snapshot.logEndOffsets.map((p) => [`${p.topic}\u0000${p.partition}`, p.offset]));
  const committed = snapshot.groupOffsets.map((g) => ({
    labels: { consumergroup: g.group, topic: g.topic, partition: String(g.partition) },
    offset: g.offset,
    end: logEnd.get(`${g.topic}\u0000${g.partition}`),
  }));
  families.push({
    name: "kafka_consumergroup_current_offset",
    help: "Committed offset of a consumer group in a topic partition",
    type: "gauge",
    samples: committed.map((c) => ({ labels: c.labels, value: c.offset })),
  });
  families.push({
    name: "kafka_consumergroup_lag",
    help: "Log end offset minus the consumer group's committed offset",
    type: "gauge",
    // Only where the log end is known (its topic's offsets may have failed this time).
    samples: committed
      .filter((c) => c.end !== undefined)
      .map((c) => ({ labels: c.labels, value: Math.max(0, (c.end as number) - c.offset) })),
  });
  return families;
}
