/**
 * `/metrics` in the Prometheus text format (version 0.0.4): the bridge's own counters, gauges and
 * histograms, plus families computed at scrape time (the Kafka cluster's, `kafka-metrics.ts`).
 * Small on purpose: the bridge counts, Prometheus does the rates. Every name here is in
 * docs/metrics.md (the contract the alert rules and the dashboard in `ops/` are checked against).
 */

export type MetricLabels = Readonly<Record<string, string>>;

/** One metric family computed at scrape time (gauges of the Kafka cluster). */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly samples: readonly { readonly labels: MetricLabels; readonly value: number }[];
}

/** Upper bounds (seconds) of the request latency histogram. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/**
 * Upper bounds (seconds) of the mirror delay histogram: from a healthy sub-second mirror to a day
 * of queue backlog (the `EdgebusMirrorDelayHigh` alert fires on a p95 above 300 s).
 */
export const MIRROR_DELAY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21_600, 86_400];

interface Histogram {
  readonly help: string;
  readonly buckets: readonly number[];
  readonly series: Map<string, { counts: number[]; sum: number; count: number }>;
}

export function labelText(labels: MetricLabels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}

function sampleLine(name: string, labels: string, value: number): string {
  return `${name}${labels ? `{${labels}}` : ""} ${formatValue(value)}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

export class BridgeMetrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();
  readonly #gauges = new Map<string, { help: string; values: Map<string, number> }>();
  readonly #histograms = new Map<string, Histogram>();

  constructor() {
    this.#counter("edgebus_bridge_http_requests_total", "HTTP requests served, by area and status class");
    this.#counter("edgebus_bridge_kafka_rest_produced_total", "Records produced through the Kafka REST gateway");
    this.#counter("edgebus_bridge_mirror_events_total", "Mirror events by outcome (acked, failed)");
    this.#counter("edgebus_bridge_mirror_pull_forwarded_total", "Records forwarded by the mirror pull");
    this.#counter(
      "edgebus_bridge_kafka_metrics_errors_total",
      "Failed parts of collecting the Kafka cluster metrics (the scrape answers with what it has)",
    );
    this.#counter("edgebus_bridge_streams_closed_total", "Topic streams (SSE, WebSocket) closed, by reason");
    this.#gauge("edgebus_bridge_streams_open", "Topic streams open now, by protocol");
    this.#counter(
      "edgebus_bridge_mirror_target_published_total",
      "Mirrored events a target's broker confirmed, by target (redeliveries it dropped included)",
    );
    this.#counter(
      "edgebus_bridge_mirror_target_duplicates_total",
      "Redelivered events a target's broker recognised and stored no second copy of (JetStream, Redis Streams)",
    );
    this.#counter("edgebus_bridge_mirror_target_failures_total", "Mirrored events a target did not confirm, by code");
    this.#histogram(
      "edgebus_bridge_http_request_duration_seconds",
      "Time to answer a request, by area (streams: time to the response headers)",
      HTTP_DURATION_BUCKETS,
    );
    this.#histogram(
      "edgebus_bridge_mirror_delay_seconds",
      "Edge event time to the on-prem Kafka append of a mirrored event",
      MIRROR_DELAY_BUCKETS,
    );
    this.#histogram(
      "edgebus_bridge_mirror_target_confirm_seconds",
      "Time from handing a mirror request's events to a target to its last confirm, by target",
      HTTP_DURATION_BUCKETS,
    );
  }

  inc(name: string, labels: MetricLabels = {}, by = 1): void {
    const counter = this.#counters.get(name);
    if (!counter) throw new Error(`unknown metric ${name}`);
    const key = labelText(labels);
    counter.values.set(key, (counter.values.get(key) ?? 0) + by);
  }

  /** Adds `by` (may be negative) to an in-process gauge. */
  add(name: string, labels: MetricLabels, by: number): void {
    const gauge = this.#gauges.get(name);
    if (!gauge) throw new Error(`unknown metric ${name}`);
    const key = labelText(labels);
    gauge.values.set(key, (gauge.values.get(key) ?? 0) + by);
  }

  observe(name: string, labels: MetricLabels, value: number): void {
    const histogram = this.#histograms.get(name);
    if (!histogram) throw new Error(`unknown metric ${name}`);
    const key = labelText(labels);
    let series = histogram.series.get(key);
    if (!series) {
      series = { counts: histogram.buckets.map(() => 0), sum: 0, count: 0 };
      histogram.series.set(key, series);
    }
    for (let i = 0; i < histogram.buckets.length; i++) {
      if (value <= (histogram.buckets[i] as number)) series.counts[i] = (series.counts[i] as number) + 1;
    }
    series.sum += value;
    series.count += 1;
  }

  /** The text exposition: the bridge's own metrics, then `extra` (computed at scrape time). */
  render(extra: readonly MetricFamily[] = []): string {
    const lines: string[] = [];
    for (const [name, { help, values }] of this.#counters) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      if (values.size === 0) lines.push(`${name} 0`);
      for (const [labels, value] of values) lines.push(sampleLine(name, labels, value));
    }
    for (const [name, { help, values }] of this.#gauges) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const [labels, value] of values) lines.push(sampleLine(name, labels, value));
    }
    for (const [name, { help, buckets, series }] of this.#histograms) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
      for (const [labels, { counts, sum, count }] of series) {
        const prefix = labels ? `${labels},` : "";
        buckets.forEach((bound, i) => {
          lines.push(`${name}_bucket{${prefix}le="${bound}"} ${counts[i]}`);
        });
        lines.push(`${name}_bucket{${prefix}le="+Inf"} ${count}`);
        lines.push(sampleLine(`${name}_sum`, labels, sum), sampleLine(`${name}_count`, labels, count));
      }
    }
    for (const family of extra) {
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
      for (const { labels, value } of family.samples) lines.push(sampleLine(family.name, labelText(labels), value));
    }
    return `${lines.join("\n")}\n`;
  }

  #counter(name: string, help: string): void {
    this.#counters.set(name, { help, values: new Map() });
  }

  #gauge(name: string, help: string): void {
    this.#gauges.set(name, { help, values: new Map() });
  }

  #histogram(name: string, help: string, buckets: readonly number[]): void {
    this.#histograms.set(name, { help, buckets, series: new Map() });
  }
}
