/**
 * What the edgebus dashboard shows, row by row: each panel's queries, and for each query the recording
 * rule that carries it into ops/prometheus/dashboard.rules.yml and what it must give over the
 * synthetic series (ops/prometheus/synthetic-series.ts) in ops/prometheus/tests/dashboard.test.yml.
 *
 * A panel query is written once, here: the dashboard (ops/grafana/edgebus.json) and the recording
 * rule get the same text, so `promtool check rules` checks its syntax and `promtool test rules` its
 * labels and arithmetic. Queries use fixed windows (`[5m]`, not `$__rate_interval`) and no dashboard
 * variables for that reason. Metric names and labels must be in docs/metrics.md (test/ops/).
 *
 * Synthetic values (60 observations or counts per minute unless said): see synthetic-series.ts.
 */

export interface ExpectedSample {
  /** The recorded series' labels (without `__name__`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PanelQuery {
  /** PromQL, exactly as the panel runs it and as the recording rule records it. */
  readonly expr: string;
  /** Grafana legend, e.g. `{{queue}}`. */
  readonly legend: string;
  /** Name of the recording rule in dashboard.rules.yml (`level:metric:operations`). */
  readonly record: string;
  /** Every series the query gives over the synthetic series at SYNTHETIC_EVAL_TIME. */
  readonly expect: readonly ExpectedSample[];
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  /** `timeseries` for trends, `stat` for one current number. */
  readonly kind: "timeseries" | "stat";
  /** Grafana unit id: `reqps`, `s`, `percentunit`, `short`, `bytes`, `ops`. */
  readonly unit: string;
  /** Grid width (of 24). */
  readonly width: 6 | 8 | 12 | 24;
  /** Stack the series (a breakdown of one total). */
  readonly stacked?: boolean;
  /** Stat panels: value from which the number turns red. */
  readonly redFrom?: number;
  readonly queries: readonly PanelQuery[];
}

export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const CITIZEN_TOPIC = "onprem.gov.auth.citizen";

export const DASHBOARD_ROWS: readonly RowSpec[] = [
  {
    title: "Producer",
    panels: [
      {
        title: "Requests by route and status",
        description: "Requests the producer answered (GET /metrics of each isolate that answered a scrape).",
        kind: "timeseries",
        unit: "reqps",
        width: 12,
        stacked: true,
        queries: [
          {
            expr: "sum by (route, status) (rate(edgebus_http_requests_total[5m]))",
            legend: "{{route}} {{status}}",
            record: "route_status:edgebus_http_requests:rate5m",
            expect: [
              { labels: { route: "/v1/events", status: "202" }, value: 0.75 },
              { labels: { route: "/v1/events", status: "503" }, value: 0.25 },
              { labels: { route: "/v1/events/batch", status: "200" }, value: 1 },
            ],
          },
        ],
      },
      {
        title: "5xx ratio",
        description: "Share of requests answered 5xx; alert EdgebusProducerErrorRatioHigh above 5 %.",
        kind: "timeseries",
        unit: "percentunit",
        width: 12,
        queries: [
          {
            expr: 'sum(rate(edgebus_http_requests_total{status=~"5.."}[5m])) / sum(rate(edgebus_http_requests_total[5m]))',
            legend: "5xx",
            record: "edgebus:http_requests_5xx:ratio_rate5m",
            expect: [{ labels: {}, value: 0.125 }],
          },
        ],
      },
      {
        title: "Events by outcome",
        description: "Events accepted, answered as duplicates, or rejected (schema, scope, unknown type).",
        kind: "timeseries",
        unit: "ops",
        width: 8,
        stacked: true,
        queries: [
          {
            expr: "sum by (outcome) (rate(edgebus_events_total[5m]))",
            legend: "{{outcome}}",
            record: "outcome:edgebus_events:rate5m",
            expect: [
              { labels: { outcome: "accepted" }, value: 1 },
              { labels: { outcome: "duplicate" }, value: 0.5 },
              { labels: { outcome: "rejected" }, value: 0.25 },
            ],
          },
        ],
      },
      {
        title: "Rejected events by type",
        description: "A rise for one type is usually one publisher sending bad events.",
        kind: "timeseries",
        unit: "ops",
        width: 8,
        queries: [
          {
            expr: 'sum by (type) (rate(edgebus_events_total{outcome="rejected"}[5m]))',
            legend: "{{type}}",
            record: "type:edgebus_events_rejected:rate5m",
            expect: [{ labels: { type: "gov.permits.application.submitted" }, value: 0.25 }],
          },
        ],
      },
      {
        title: "Publish errors by destination",
        description: "Publishes a destination refused (the client got 503 and retries).",
        kind: "timeseries",
        unit: "ops",
        width: 8,
        queries: [
          {
            expr: 'sum by (destination) (rate(edgebus_publish_duration_seconds_count{result="error"}[5m]))',
            legend: "{{destination}}",
            record: "destination:edgebus_publish_errors:rate5m",
            expect: [{ labels: { destination: "kafka" }, value: 1 }],
          },
        ],
      },
      {
        title: "Publish latency by destination",
        description: "Time to publish to one destination kind; alert EdgebusPublishLatencyHigh on p95 above 1 s.",
        kind: "timeseries",
        unit: "s",
        width: 24,
        queries: [
          {
            expr: "histogram_quantile(0.5, sum by (destination, le) (rate(edgebus_publish_duration_seconds_bucket[5m])))",
            legend: "p50 {{destination}}",
            record: "destination:edgebus_publish_duration_seconds:p50_rate5m",
            expect: [
              { labels: { destination: "queue" }, value: 0.25 },
              { labels: { destination: "kafka" }, value: 0.5 },
            ],
          },
          {
            expr: "histogram_quantile(0.95, sum by (destination, le) (rate(edgebus_publish_duration_seconds_bucket[5m])))",
            legend: "p95 {{destination}}",
            record: "destination:edgebus_publish_duration_seconds:p95_rate5m",
            expect: [
              { labels: { destination: "queue" }, value: 1 },
              { labels: { destination: "kafka" }, value: 2 },
            ],
          },
        ],
      },
    ],
  },
  {
    title: "Queues",
    panels: [
      {
        title: "Backlog (messages)",
        description: "Messages waiting in each Cloudflare Queue (Queue.metrics().backlogCount).",
        kind: "timeseries",
        unit: "short",
        width: 8,
        queries: [
          {
            expr: "max by (queue) (edgebus_queue_backlog_messages)",
            legend: "{{queue}}",
            record: "queue:edgebus_queue_backlog_messages:max",
            expect: [
              { labels: { queue: "notifications" }, value: 120 },
              { labels: { queue: "archive" }, value: 0 },
            ],
          },
        ],
      },
      {
        title: "Backlog (bytes)",
        description: "Bytes waiting in each queue.",
        kind: "timeseries",
        unit: "bytes",
        width: 8,
        queries: [
          {
            expr: "max by (queue) (edgebus_queue_backlog_bytes)",
            legend: "{{queue}}",
            record: "queue:edgebus_queue_backlog_bytes:max",
            expect: [
              { labels: { queue: "notifications" }, value: 245760 },
              { labels: { queue: "archive" }, value: 0 },
            ],
          },
        ],
      },
      {
        title: "Oldest message age",
        description: "Age of the oldest waiting message; alert EdgebusQueueBacklogAged above 30 min (critical 2 h).",
        kind: "timeseries",
        unit: "s",
        width: 8,
        queries: [
          {
            expr: "max by (queue) (edgebus_queue_oldest_message_age_seconds)",
            legend: "{{queue}}",
            record: "queue:edgebus_queue_oldest_message_age_seconds:max",
            expect: [
              { labels: { queue: "notifications" }, value: 3600 },
              { labels: { queue: "archive" }, value: 0 },
            ],
          },
        ],
      },
    ],
  },
  {
    title: "Consumers",
    panels: [
      {
        title: "Messages by consumer and outcome",
        description: "applied, duplicate (already applied), retried, dead_lettered.",
        kind: "timeseries",
        unit: "ops",
        width: 12,
        stacked: true,
        queries: [
          {
            expr: "sum by (consumer, outcome) (rate(edgebus_consumer_messages_total[5m]))",
            legend: "{{consumer}} {{outcome}}",
            record: "consumer_outcome:edgebus_consumer_messages:rate5m",
            expect: [
              { labels: { consumer: "notifier", outcome: "applied" }, value: 1 },
              { labels: { consumer: "notifier", outcome: "retried" }, value: 0.5 },
              { labels: { consumer: "notifier", outcome: "dead_lettered" }, value: 0.25 },
              { labels: { consumer: "archive", outcome: "applied" }, value: 2 },
            ],
          },
        ],
      },
      {
        title: "Event age at processing (p95)",
        description: "since event: now − the event's time; since enqueue: now − when the queue took it.",
        kind: "timeseries",
        unit: "s",
        width: 12,
        queries: [
          {
            expr: 'histogram_quantile(0.95, sum by (consumer, le) (rate(edgebus_consumer_event_age_seconds_bucket{since="event"}[5m])))',
            legend: "{{consumer}} since event",
            record: "consumer:edgebus_consumer_event_age_seconds:p95_since_event_rate5m",
            expect: [{ labels: { consumer: "notifier" }, value: 2 }],
          },
          {
            expr: 'histogram_quantile(0.95, sum by (consumer, le) (rate(edgebus_consumer_event_age_seconds_bucket{since="enqueue"}[5m])))',
            legend: "{{consumer}} since enqueue",
            record: "consumer:edgebus_consumer_event_age_seconds:p95_since_enqueue_rate5m",
            expect: [{ labels: { consumer: "notifier" }, value: 1 }],
          },
        ],
      },
      {
        title: "Batch duration (p95)",
        description: "Time to handle one batch.",
        kind: "timeseries",
        unit: "s",
        width: 12,
        queries: [
          {
            expr: "histogram_quantile(0.95, sum by (consumer, le) (rate(edgebus_consumer_batch_duration_seconds_bucket[5m])))",
            legend: "{{consumer}}",
            record: "consumer:edgebus_consumer_batch_duration_seconds:p95_rate5m",
            expect: [
              { labels: { consumer: "notifier" }, value: 1 },
              { labels: { consumer: "archive" }, value: 2 },
            ],
          },
        ],
      },
      {
        title: "Average batch size",
        description: "Messages per batch.",
        kind: "timeseries",
        unit: "short",
        width: 12,
        queries: [
          {
            expr: "sum by (consumer) (rate(edgebus_consumer_batch_size_sum[5m])) / sum by (consumer) (rate(edgebus_consumer_batch_size_count[5m]))",
            legend: "{{consumer}}",
            record: "consumer:edgebus_consumer_batch_size:mean_rate5m",
            expect: [{ labels: { consumer: "notifier" }, value: 10 }],
          },
        ],
      },
    ],
  },
  {
    title: "Dead letters",
    panels: [
      {
        title: "Pending by queue and error code",
        description: "Dead letters not yet redriven or discarded: `npm run edgebus -- dlq list --queue <queue>`.",
        kind: "timeseries",
        unit: "short",
        width: 8,
        stacked: true,
        queries: [
          {
            expr: "sum by (queue, error_code) (edgebus_dead_letters_pending)",
            legend: "{{queue}} {{error_code}}",
            record: "queue_error_code:edgebus_dead_letters_pending:sum",
            expect: [
              { labels: { queue: "notifications", error_code: "bad_request" }, value: 3 },
              { labels: { queue: "notifications", error_code: "upstream_unavailable" }, value: 2 },
              { labels: { queue: "archive", error_code: "upstream_unavailable" }, value: 1 },
            ],
          },
        ],
      },
      {
        title: "Oldest pending dead letter",
        description: "Age of the oldest pending dead letter; alert EdgebusDeadLetterAged above 24 h.",
        kind: "timeseries",
        unit: "s",
        width: 8,
        queries: [
          {
            expr: "max by (queue) (edgebus_dead_letter_oldest_pending_age_seconds)",
            legend: "{{queue}}",
            record: "queue:edgebus_dead_letter_oldest_pending_age_seconds:max",
            expect: [
              { labels: { queue: "notifications" }, value: 7200 },
              { labels: { queue: "archive" }, value: 60 },
            ],
          },
        ],
      },
      {
        title: "Dead letters stored per hour",
        description: "Inflow into edgebus.dead_letters; alert EdgebusDeadLetterInflow above 10 in 15 min.",
        kind: "timeseries",
        unit: "short",
        width: 8,
        queries: [
          {
            expr: "sum by (queue) (increase(edgebus_dead_letters_total[1h]))",
            legend: "{{queue}}",
            record: "queue:edgebus_dead_letters:increase1h",
            expect: [{ labels: { queue: "notifications" }, value: 120 }],
          },
        ],
      },
    ],
  },
  {
    title: "Kafka",
    panels: [
      {
        title: "Consumer lag by group and topic",
        description: "Log end offset − committed offset, summed over partitions; alert EdgebusKafkaConsumerLagGrowing.",
        kind: "timeseries",
        unit: "short",
        width: 12,
        queries: [
          {
            expr: "sum by (consumergroup, topic) (kafka_consumergroup_lag)",
            legend: "{{consumergroup}} {{topic}}",
            record: "consumergroup_topic:kafka_consumergroup_lag:sum",
            expect: [{ labels: { consumergroup: "onprem-archiver", topic: CITIZEN_TOPIC }, value: 605 }],
          },
        ],
      },
      {
        title: "Append rate by topic",
        description: "Records appended per second (growth of the log end offsets).",
        kind: "timeseries",
        unit: "ops",
        width: 12,
        queries: [
          {
            expr: "sum by (topic) (deriv(kafka_topic_partition_current_offset[5m]))",
            legend: "{{topic}}",
            record: "topic:kafka_topic_partition_current_offset:deriv5m",
            expect: [{ labels: { topic: CITIZEN_TOPIC }, value: 3 }],
          },
        ],
      },
      {
        title: "Brokers",
        description: "Brokers in the cluster metadata; alert EdgebusKafkaBrokersMissing below 3.",
        kind: "stat",
        unit: "short",
        width: 12,
        queries: [
          {
            expr: "max(kafka_brokers)",
            legend: "brokers",
            record: "edgebus:kafka_brokers:max",
            expect: [{ labels: {}, value: 3 }],
          },
        ],
      },
      {
        title: "Under-replicated partitions",
        description: "Partitions whose in-sync replicas are fewer than their replicas.",
        kind: "stat",
        unit: "short",
        width: 12,
        redFrom: 1,
        queries: [
          {
            expr: "sum(kafka_topic_partition_under_replicated_partition)",
            legend: "under-replicated",
            record: "edgebus:kafka_topic_partition_under_replicated_partition:sum",
            expect: [{ labels: {}, value: 1 }],
          },
        ],
      },
    ],
  },
  {
    title: "Bridge",
    panels: [
      {
        title: "Gateway requests by area and status",
        description: "Requests to the bridge's /kafka, /redis, /v1/mirror, /healthz, /metrics.",
        kind: "timeseries",
        unit: "reqps",
        width: 12,
        stacked: true,
        queries: [
          {
            expr: "sum by (area, status) (rate(edgebus_bridge_http_requests_total[5m]))",
            legend: "{{area}} {{status}}",
            record: "area_status:edgebus_bridge_http_requests:rate5m",
            expect: [
              { labels: { area: "kafka", status: "2xx" }, value: 1 },
              { labels: { area: "redis", status: "2xx" }, value: 2 },
              { labels: { area: "mirror", status: "5xx" }, value: 0.25 },
            ],
          },
        ],
      },
      {
        title: "Gateway latency by area (p95)",
        description: "Time to answer one gateway request.",
        kind: "timeseries",
        unit: "s",
        width: 12,
        queries: [
          {
            expr: "histogram_quantile(0.95, sum by (area, le) (rate(edgebus_bridge_http_request_duration_seconds_bucket[5m])))",
            legend: "{{area}}",
            record: "area:edgebus_bridge_http_request_duration_seconds:p95_rate5m",
            expect: [
              { labels: { area: "kafka" }, value: 1 },
              { labels: { area: "redis" }, value: 2 },
            ],
          },
        ],
      },
      {
        title: "Mirror delay",
        description: "Edge event time → on-prem append; alert EdgebusMirrorDelayHigh on p95 above 5 min.",
        kind: "timeseries",
        unit: "s",
        width: 8,
        queries: [
          {
            expr: "histogram_quantile(0.5, sum by (le) (rate(edgebus_bridge_mirror_delay_seconds_bucket[5m])))",
            legend: "p50",
            record: "edgebus:edgebus_bridge_mirror_delay_seconds:p50_rate5m",
            expect: [{ labels: {}, value: 0.5 }],
          },
          {
            expr: "histogram_quantile(0.95, sum by (le) (rate(edgebus_bridge_mirror_delay_seconds_bucket[5m])))",
            legend: "p95",
            record: "edgebus:edgebus_bridge_mirror_delay_seconds:p95_rate5m",
            expect: [{ labels: {}, value: 2 }],
          },
        ],
      },
      {
        title: "Mirrored events by result",
        description: "Mirror ingest results: acked once Kafka acknowledged, failed otherwise.",
        kind: "timeseries",
        unit: "ops",
        width: 8,
        stacked: true,
        queries: [
          {
            expr: "sum by (status) (rate(edgebus_bridge_mirror_events_total[5m]))",
            legend: "{{status}}",
            record: "status:edgebus_bridge_mirror_events:rate5m",
            expect: [
              { labels: { status: "acked" }, value: 1 },
              { labels: { status: "failed" }, value: 0.25 },
            ],
          },
        ],
      },
      {
        title: "Records written to Kafka by the bridge",
        description: "Through the Upstash Kafka REST gateway (/kafka) and by the mirror pull.",
        kind: "timeseries",
        unit: "ops",
        width: 8,
        queries: [
          {
            expr: "sum(rate(edgebus_bridge_kafka_rest_produced_total[5m]))",
            legend: "Kafka REST produce",
            record: "edgebus:edgebus_bridge_kafka_rest_produced:rate5m",
            expect: [{ labels: {}, value: 1 }],
          },
          {
            expr: "sum(rate(edgebus_bridge_mirror_pull_forwarded_total[5m]))",
            legend: "mirror pull",
            record: "edgebus:edgebus_bridge_mirror_pull_forwarded:rate5m",
            expect: [{ labels: {}, value: 0.5 }],
          },
        ],
      },
      {
        title: "Bridge memory by process",
        description:
          "Resident memory, the V8 heap in use and memory outside it (buffers). A rising floor after garbage collections, not the saw-tooth between them, is a leak.",
        kind: "timeseries",
        unit: "bytes",
        width: 12,
        queries: [
          {
            expr: 'max by (instance) (process_resident_memory_bytes{job="edgebus-bridge"})',
            legend: "{{instance}} resident",
            record: "instance:edgebus_bridge_process_resident_memory_bytes:max",
            expect: [{ labels: { instance: "bridge.internal.example:8788" }, value: 300e6 }],
          },
          {
            expr: 'max by (instance) (nodejs_heap_size_used_bytes{job="edgebus-bridge"})',
            legend: "{{instance}} heap used",
            record: "instance:edgebus_bridge_nodejs_heap_size_used_bytes:max",
            expect: [{ labels: { instance: "bridge.internal.example:8788" }, value: 120e6 }],
          },
          {
            expr: 'max by (instance) (nodejs_external_memory_bytes{job="edgebus-bridge"})',
            legend: "{{instance}} external",
            record: "instance:edgebus_bridge_nodejs_external_memory_bytes:max",
            expect: [{ labels: { instance: "bridge.internal.example:8788" }, value: 40e6 }],
          },
        ],
      },
      {
        title: "Bridge CPU and event loop by process",
        description:
          "CPU in cores (one process uses at most about one) and the event loop's p99 delay; alert EdgebusBridgeEventLoopSlow above 250 ms for 10 min.",
        kind: "timeseries",
        unit: "short",
        width: 12,
        queries: [
          {
            expr: 'sum by (instance) (rate(process_cpu_seconds_total{job="edgebus-bridge"}[5m]))',
            legend: "{{instance}} CPU (cores)",
            record: "instance:edgebus_bridge_process_cpu_seconds:rate5m",
            expect: [{ labels: { instance: "bridge.internal.example:8788" }, value: 0.5 }],
          },
          {
            expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds{job="edgebus-bridge"})',
            legend: "{{instance}} event loop p99 (s)",
            record: "instance:edgebus_bridge_nodejs_eventloop_lag_p99_seconds:max",
            expect: [{ labels: { instance: "bridge.internal.example:8788" }, value: 0.02 }],
          },
        ],
      },
      {
        title: "Scrape targets up",
        description:
          "1 when Prometheus could scrape the job; 0 for edgebus-bridge is alert EdgebusBridgeDown, for the others EdgebusMetricsScrapeFailing.",
        kind: "timeseries",
        unit: "short",
        width: 24,
        queries: [
          {
            expr: 'min by (job) (up{job=~"edgebus-.*"})',
            legend: "{{job}}",
            record: "job:up:min",
            expect: [
              { labels: { job: "edgebus-producer" }, value: 1 },
              { labels: { job: "edgebus-consumers" }, value: 0 },
              { labels: { job: "edgebus-bridge" }, value: 1 },
            ],
          },
        ],
      },
    ],
  },
];

/** Every panel query, in dashboard order. */
export function panelQueries(rows: readonly RowSpec[] = DASHBOARD_ROWS): PanelQuery[] {
  return rows.flatMap((row) => row.panels.flatMap((panel) => panel.queries));
}
