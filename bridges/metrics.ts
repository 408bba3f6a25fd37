/**
 * Counters for `/metrics` in the Prometheus text format (version 0.0.4). Small on purpose: the
 * bridge counts, Prometheus does the rates. Label values are escaped per the format.
 */
export class BridgeMetrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();

  constructor() {
    this.#define("edgebus_bridge_http_requests_total", "HTTP requests served, by area and status class");
    this.#define("edgebus_bridge_kafka_rest_produced_total", "Records produced through the Kafka REST gateway");
    this.#define("edgebus_bridge_mirror_events_total", "Mirror events by outcome (acked, failed)");
    this.#define("edgebus_bridge_mirror_pull_forwarded_total", "Records forwarded by the mirror pull");
  }

  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    const counter = this.#counters.get(name);
    if (!counter) throw new Error(`unknown metric ${name}`);
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
      .join(",");
    counter.values.set(key, (counter.values.get(key) ?? 0) + by);
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, { help, values }] of this.#counters) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      if (values.size === 0) lines.push(`${name} 0`);
      for (const [labels, value] of values) lines.push(`${name}${labels ? `{${labels}}` : ""} ${value}`);
    }
    return `${lines.join("\n")}\n`;
  }

  #define(name: string, help: string): void {
    this.#counters.set(name, { help, values: new Map() });
  }
}
