/**
 * Prometheus metrics of one producer isolate, rendered as text on `GET /metrics`. Counters
 * live in isolate memory (Workers have no shared process); a scraper sees the isolate that
 * answered, which is what Workers Analytics Engine would aggregate in production.
 */

type Labels = Readonly<Record<string, string>>;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function labelKey(labels: Labels): string {
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(
      ([name, value]) => `${name}="${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`,
    )
    .join(",");
}

class Counter {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels, by = 1): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.#values) lines.push(`${this.name}{${key}} ${value}`);
    return lines.join("\n");
  }
}

class Histogram {
  readonly #series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  observe(labels: Labels, seconds: number): void {
    const key = labelKey(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    LATENCY_BUCKETS.forEach((bound, index) => {
      if (seconds <= bound && series) series.buckets[index] = (series.buckets[index] ?? 0) + 1;
    });
    series.sum += seconds;
    series.count += 1;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, series] of this.#series) {
      const prefix = key === "" ? "" : `${key},`;
      LATENCY_BUCKETS.forEach((bound, index) => {
        lines.push(`${this.name}_bucket{${prefix}le="${bound}"} ${series.buckets[index]}`);
      });
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${series.count}`);
      lines.push(`${this.name}_sum{${key}} ${series.sum}`);
      lines.push(`${this.name}_count{${key}} ${series.count}`);
    }
    return lines.join("\n");
  }
}

export class ProducerMetrics {
  readonly requests = new Counter("edgebus_http_requests_total", "HTTP requests by route, method and status");
  readonly events = new Counter(
    "edgebus_events_total",
    "Events by type and outcome (accepted, duplicate, rejected); unknown types are counted as type=unknown",
  );
  readonly publishSeconds = new Histogram(
    "edgebus_publish_duration_seconds",
    "Time to publish one event to one destination, by destination kind and result",
  );

  render(): string {
    return `${[this.requests.render(), this.events.render(), this.publishSeconds.render()].join("\n")}\n`;
  }
}
