/**
 * The synthetic series every dashboard query is tested against (ops/prometheus/tests/dashboard.test.yml,
 * run by `promtool test rules`). One small "world": a few queues, consumers, topics and gateway areas,
 * sampled every minute for 70 minutes, read at minute 60.
 *
 * Counters grow by a fixed amount per minute, so `rate(x[5m])` is that amount / 60 exactly. The
 * histograms are built so that p50 and p95 land exactly on a bucket boundary (Prometheus interpolates
 * linearly inside a bucket, and promtool compares values exactly): see FAST and SLOW below.
 */

/** promtool's sampling interval for the input series. */
export const SYNTHETIC_INTERVAL = "1m";
/** When the recorded panel queries are read. */
export const SYNTHETIC_EVAL_TIME = "60m";
/** Samples per series (one per minute, minute 0 to 70). */
const SAMPLES = 70;

export interface SyntheticSeries {
  /** The series in PromQL text form, e.g. `edgebus_events_total{type="…",outcome="accepted"}`. */
  readonly series: string;
  /** promtool's expanding notation, e.g. `0+60x70` (starts at 0, +60 per minute, 70 more samples). */
  readonly values: string;
}

type Labels = Readonly<Record<string, string>>;

function selector(name: string, labels: Labels): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return pairs.length === 0 ? name : `${name}{${pairs.join(",")}}`;
}

/** A counter that grows by `perMinute` every minute: `rate(…[5m])` is `perMinute / 60`. */
function counter(name: string, labels: Labels, perMinute: number): SyntheticSeries {
  return { series: selector(name, labels), values: `0+${perMinute}x${SAMPLES}` };
}

/** A gauge that starts at `start` and moves by `perMinute` every minute. */
function gauge(name: string, labels: Labels, start: number, perMinute = 0): SyntheticSeries {
  return {
    series: selector(name, labels),
    values: perMinute === 0 ? `${start}x${SAMPLES}` : `${start}+${perMinute}x${SAMPLES}`,
  };
}

/**
 * Cumulative observations per minute by bucket (`le`). Both have 60 per minute in total (1 per
 * second), so the rank of a quantile q is q itself. Exact on purpose (promtool compares exactly):
 * p50 falls where a bucket holds exactly half, and p95 beyond the last finite bucket (which holds
 * 90 %), where histogram_quantile answers that bucket's upper bound.
 * - FAST: p50 = 0.25, p95 = 1;
 * - SLOW: p50 = 0.5, p95 = 2.
 */
export const FAST = { "0.25": 30, "0.5": 45, "1": 54, "+Inf": 60 } as const;
export const SLOW = { "0.25": 0, "0.5": 30, "1": 45, "2": 54, "+Inf": 60 } as const;

/** A histogram's `_bucket`, `_count` and `_sum` series (the sum grows by `sumPerMinute`). */
function histogram(
  name: string,
  labels: Labels,
  buckets: Readonly<Record<string, number>>,
  sumPerMinute = 30,
): SyntheticSeries[] {
  const series = Object.entries(buckets).map(([le, perMinute]) =>
    counter(`${name}_bucket`, { ...labels, le }, perMinute),
  );
  series.push(counter(`${name}_count`, labels, buckets["+Inf"] ?? 0));
  series.push(counter(`${name}_sum`, labels, sumPerMinute));
  return series;
}

const CITIZEN_TOPIC = "onprem.gov.auth.citizen";

export const SYNTHETIC_SERIES: readonly SyntheticSeries[] = [
  // Producer: 2 requests/s, an eighth of them 5xx.
  counter("edgebus_http_requests_total", { route: "/v1/events", method: "POST", status: "202" }, 45),
  counter("edgebus_http_requests_total", { route: "/v1/events", method: "POST", status: "503" }, 15),
  counter("edgebus_http_requests_total", { route: "/v1/events/batch", method: "POST", status: "200" }, 60),
  counter("edgebus_events_total", { type: "gov.auth.citizen.created", outcome: "accepted" }, 60),
  counter("edgebus_events_total", { type: "gov.auth.citizen.created", outcome: "duplicate" }, 30),
  counter("edgebus_events_total", { type: "gov.permits.application.submitted", outcome: "rejected" }, 15),
  ...histogram("edgebus_publish_duration_seconds", { destination: "queue", result: "ok" }, FAST),
  ...histogram("edgebus_publish_duration_seconds", { destination: "kafka", result: "error" }, SLOW),

  // Queues.
  gauge("edgebus_queue_backlog_messages", { queue: "notifications" }, 120),
  gauge("edgebus_queue_backlog_messages", { queue: "archive" }, 0),
  gauge("edgebus_queue_backlog_bytes", { queue: "notifications" }, 245760),
  gauge("edgebus_queue_backlog_bytes", { queue: "archive" }, 0),
  gauge("edgebus_queue_oldest_message_age_seconds", { queue: "notifications" }, 0, 60),
  gauge("edgebus_queue_oldest_message_age_seconds", { queue: "archive" }, 0),

  // Consumers.
  counter("edgebus_consumer_messages_total", { consumer: "notifier", queue: "notifications", outcome: "applied" }, 60),
  counter("edgebus_consumer_messages_total", { consumer: "notifier", queue: "notifications", outcome: "retried" }, 30),
  counter(
    "edgebus_consumer_messages_total",
    { consumer: "notifier", queue: "notifications", outcome: "dead_lettered" },
    15,
  ),
  counter("edgebus_consumer_messages_total", { consumer: "archive", queue: "archive", outcome: "applied" }, 120),
  ...histogram(
    "edgebus_consumer_event_age_seconds",
    { consumer: "notifier", queue: "notifications", since: "event" },
    SLOW,
  ),
  ...histogram(
    "edgebus_consumer_event_age_seconds",
    { consumer: "notifier", queue: "notifications", since: "enqueue" },
    FAST,
  ),
  ...histogram("edgebus_consumer_batch_duration_seconds", { consumer: "notifier", queue: "notifications" }, FAST),
  ...histogram("edgebus_consumer_batch_duration_seconds", { consumer: "archive", queue: "archive" }, SLOW),
  // 60 batches a minute of 10 messages each.
  ...histogram(
    "edgebus_consumer_batch_size",
    { consumer: "notifier", queue: "notifications" },
    { "1": 0, "10": 60, "100": 60, "+Inf": 60 },
    600,
  ),

  // Dead letters.
  gauge("edgebus_dead_letters_pending", { queue: "notifications", consumer: "notifier", error_code: "bad_request" }, 3),
  gauge(
    "edgebus_dead_letters_pending",
    { queue: "notifications", consumer: "notifier", error_code: "upstream_unavailable" },
    2,
  ),
  gauge(
    "edgebus_dead_letters_pending",
    { queue: "archive", consumer: "archive", error_code: "upstream_unavailable" },
    1,
  ),
  gauge("edgebus_dead_letter_oldest_pending_age_seconds", { queue: "notifications" }, 3600, 60),
  gauge("edgebus_dead_letter_oldest_pending_age_seconds", { queue: "archive" }, 60),
  counter("edgebus_dead_letters_total", { queue: "notifications" }, 2),

  // Kafka, as the bridge exports it.
  gauge("kafka_brokers", {}, 3),
  gauge("kafka_topic_partition_current_offset", { topic: CITIZEN_TOPIC, partition: "0" }, 0, 60),
  gauge("kafka_topic_partition_current_offset", { topic: CITIZEN_TOPIC, partition: "1" }, 0, 120),
  gauge("kafka_topic_partition_under_replicated_partition", { topic: CITIZEN_TOPIC, partition: "0" }, 0),
  gauge("kafka_topic_partition_under_replicated_partition", { topic: CITIZEN_TOPIC, partition: "1" }, 1),
  gauge("kafka_consumergroup_lag", { consumergroup: "onprem-archiver", topic: CITIZEN_TOPIC, partition: "0" }, 0, 10),
  gauge("kafka_consumergroup_lag", { consumergroup: "onprem-archiver", topic: CITIZEN_TOPIC, partition: "1" }, 5),

  // Bridge gateway and mirror.
  counter("edgebus_bridge_http_requests_total", { area: "kafka", status: "2xx" }, 60),
  counter("edgebus_bridge_http_requests_total", { area: "redis", status: "2xx" }, 120),
  counter("edgebus_bridge_http_requests_total", { area: "mirror", status: "5xx" }, 15),
  ...histogram("edgebus_bridge_http_request_duration_seconds", { area: "kafka" }, FAST),
  ...histogram("edgebus_bridge_http_request_duration_seconds", { area: "redis" }, SLOW),
  counter("edgebus_bridge_mirror_events_total", { status: "acked" }, 60),
  counter("edgebus_bridge_mirror_events_total", { status: "failed" }, 15),
  ...histogram("edgebus_bridge_mirror_delay_seconds", {}, SLOW),
  counter("edgebus_bridge_kafka_rest_produced_total", {}, 60),
  counter("edgebus_bridge_mirror_pull_forwarded_total", {}, 30),
  // The bridge process's own figures, per instance.
  gauge("process_resident_memory_bytes", { job: "edgebus-bridge", instance: "bridge.internal.example:8788" }, 300e6),
  gauge("nodejs_heap_size_used_bytes", { job: "edgebus-bridge", instance: "bridge.internal.example:8788" }, 120e6),
  gauge("nodejs_external_memory_bytes", { job: "edgebus-bridge", instance: "bridge.internal.example:8788" }, 40e6),
  counter("process_cpu_seconds_total", { job: "edgebus-bridge", instance: "bridge.internal.example:8788" }, 30),
  gauge("nodejs_eventloop_lag_p99_seconds", { job: "edgebus-bridge", instance: "bridge.internal.example:8788" }, 0.02),

  // Prometheus's own per-target series (job names as in ops/prometheus/prometheus.yml).
  gauge("up", { job: "edgebus-producer", instance: "producer.example.org:443" }, 1),
  gauge("up", { job: "edgebus-consumers", instance: "producer.example.org:443" }, 0),
  gauge("up", { job: "edgebus-bridge", instance: "bridge.internal.example:8788" }, 1),
];
