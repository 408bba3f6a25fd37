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

/**
 * Rendered label keys by the label values as given (names and values joined in call order): a
 * counter is written for every event, and sorting and escaping the same few label sets again
 * each time cost more than the rest of the write. Label values are bounded (routes, catalogue
 * types, outcomes, HTTP methods: none holds a control character, so the lookup key is unambiguous), so
 * the cache is too; past `MAX_CACHED_KEYS` it is not added to.
 */
const MAX_CACHED_KEYS = 4096;

class LabelKeys {
  readonly #cache = new Map<string, string>();
  of(labels: Labels): string {
    let lookup = "";
    for (const name in labels) lookup += `${name}\u0000${labels[name]}\u0001`;
    let key = this.#cache.get(lookup);
    if (key === undefined) {
      key = labelKey(labels);
      if (this.#cache.size < MAX_CACHED_KEYS) this.#cache.set(lookup, key);
    }
    return key;
  }
}

class Counter {
  readonly #values = new Map<string, number>();
  readonly #keys = new LabelKeys();
  readonly name: string;
  readonly help: string;
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  inc(labels: Labels, by = 1): void {
    const key = this.#keys.of(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.#values) lines.push(`${this.name}{${key}} ${value}`);
    return lines.join("\n");
  }
}

class Histogram {
  /** Per label set: observations per bucket (not cumulative; `render` adds them up), sum and count. */
  readonly #series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  readonly #keys = new LabelKeys();
  readonly name: string;
  readonly help: string;
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  observe(labels: Labels, seconds: number): void {
    const key = this.#keys.of(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    // Only the first bucket that holds the value is counted; `render` makes them cumulative.
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[bucket] as number)) bucket++;
    if (bucket < LATENCY_BUCKETS.length) series.buckets[bucket] = (series.buckets[bucket] ?? 0) + 1;
    series.sum += seconds;
    series.count += 1;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, series] of this.#series) {
      const prefix = key === "" ? "" : `${key},`;
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, index) => {
        cumulative += series.buckets[index] ?? 0;
        lines.push(`${this.name}_bucket{${prefix}le="${bound}"} ${cumulative}`);
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
