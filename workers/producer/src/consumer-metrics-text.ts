/**
 * Prometheus text (format 0.0.4) of `GET /v1/metrics/consumers`: the consumer, queue and
 * dead-letter metrics of docs/metrics.md, exactly those names, types and labels. Counters are the
 * cumulative totals summed from `edgebus.consumer_metrics`; histograms have every bucket of
 * `HISTOGRAM_BOUNDS` (plus any bound older rows used) with cumulative counts, `_sum` and `_count`.
 */
import { boundLabel, HISTOGRAM_BOUNDS, MESSAGE_OUTCOMES } from "#shared/consumers/consumer-metrics.ts";
import type { ConsumerSeries, DeadLetterSeries, HistogramName, HistogramSums } from "./db/consumer-metrics-reader.ts";
import type { QueueBacklog } from "./queue-backlog.ts";

type Labels = Readonly<Record<string, string>>;

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** A number as Prometheus reads it. */
function value(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  return String(n);
}

class Family {
  readonly #lines: string[];
  readonly name: string;

  constructor(name: string, type: "counter" | "gauge" | "histogram", help: string) {
    this.name = name;
    this.#lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  }

  sample(labels: Labels, n: number, suffix = ""): void {
    this.#lines.push(`${this.name}${suffix}${labelText(labels)} ${value(n)}`);
  }

  /** One histogram series: cumulative `_bucket`s up to `+Inf` (= the count), `_sum`, `_count`. */
  histogram(labels: Labels, sums: HistogramSums, bounds: readonly number[]): void {
    const stored = Object.keys(sums.buckets)
      .filter((le) => le !== "+Inf")
      .map(Number)
      .filter((bound) => Number.isFinite(bound));
    const all = [...new Set([...bounds, ...stored])].sort((a, b) => a - b);
    let cumulative = 0;
    for (const bound of all) {
      cumulative += sums.buckets[boundLabel(bound)] ?? 0;
      this.sample({ ...labels, le: boundLabel(bound) }, Math.min(cumulative, sums.count), "_bucket");
    }
    this.sample({ ...labels, le: "+Inf" }, sums.count, "_bucket");
    this.sample(labels, sums.sum, "_sum");
    this.sample(labels, sums.count, "_count");
  }

  text(): string {
    return this.#lines.join("\n");
  }
}

const AGE_SINCE: readonly [HistogramName, string][] = [
  ["event_age", "event"],
  ["enqueue_age", "enqueue"],
];

export function renderConsumerMetrics(
  consumers: readonly ConsumerSeries[],
  backlogs: readonly QueueBacklog[],
  deadLetters: DeadLetterSeries,
): string {
  const messages = new Family(
    "edgebus_consumer_messages_total",
    "counter",
    "Messages handled by consumer, queue and outcome (applied, duplicate, retried, dead_lettered)",
  );
  const batchSize = new Family("edgebus_consumer_batch_size", "histogram", "Messages per batch");
  const batchSeconds = new Family(
    "edgebus_consumer_batch_duration_seconds",
    "histogram",
    "Time to handle one batch, from receiving it to its last message settled",
  );
  const age = new Family(
    "edgebus_consumer_event_age_seconds",
    "histogram",
    'Age of a message at processing: since="event" (now - event time), since="enqueue" (now - enqueue time)',
  );
  for (const series of consumers) {
    const labels = { consumer: series.consumer, queue: series.queue };
    for (const outcome of MESSAGE_OUTCOMES) messages.sample({ ...labels, outcome }, series.messages[outcome]);
    batchSize.histogram(labels, series.histograms.batch_size, HISTOGRAM_BOUNDS.batchSize);
    batchSeconds.histogram(labels, series.histograms.batch_seconds, HISTOGRAM_BOUNDS.batchSeconds);
    for (const [name, since] of AGE_SINCE)
      age.histogram({ ...labels, since }, series.histograms[name], HISTOGRAM_BOUNDS.ageSeconds);
  }

  const backlogMessages = new Family(
    "edgebus_queue_backlog_messages",
    "gauge",
    "Messages waiting in the queue (Queue.metrics().backlogCount)",
  );
  const backlogBytes = new Family("edgebus_queue_backlog_bytes", "gauge", "Bytes waiting in the queue (backlogBytes)");
  const oldest = new Family(
    "edgebus_queue_oldest_message_age_seconds",
    "gauge",
    "Now - oldestMessageTimestamp of the queue; 0 when nothing waits",
  );
  for (const backlog of backlogs) {
    backlogMessages.sample({ queue: backlog.queue }, backlog.messages);
    backlogBytes.sample({ queue: backlog.queue }, backlog.bytes);
    oldest.sample({ queue: backlog.queue }, backlog.oldestAgeSeconds);
  }

  const pending = new Family(
    "edgebus_dead_letters_pending",
    "gauge",
    "Dead letters neither replayed nor discarded, by queue, consumer and error code",
  );
  for (const row of deadLetters.pending)
    pending.sample({ queue: row.queue, consumer: row.consumer, error_code: row.errorCode }, row.count);
  const oldestPending = new Family(
    "edgebus_dead_letter_oldest_pending_age_seconds",
    "gauge",
    "Seconds since the last failure of the oldest pending dead letter of the queue; 0 when none is pending",
  );
  const total = new Family(
    "edgebus_dead_letters_total",
    "counter",
    "Dead letters stored by queue (every failure, a repeated one of the same event included)",
  );
  for (const row of deadLetters.queues) {
    oldestPending.sample({ queue: row.queue }, row.oldestPendingAgeSeconds);
    total.sample({ queue: row.queue }, row.total);
  }

  return `${[
    messages,
    batchSize,
    batchSeconds,
    age,
    backlogMessages,
    backlogBytes,
    oldest,
    pending,
    oldestPending,
    total,
  ]
    .map((family) => family.text())
    .join("\n")}\n`;
}
