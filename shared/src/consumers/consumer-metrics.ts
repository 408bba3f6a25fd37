/**
 * What every consumer counts, once per batch, for the `edgebus_consumer_*` metrics
 * (docs/metrics.md, "Consumers and queues"). `consumeBatch` / `settleBatch` observe each message
 * as they settle it and hand the batch's counts to a `ConsumerMetricsSink` (in the Workers:
 * `postgresConsumerMetrics`, one upsert into `edgebus.consumer_metrics`), so every consumer is
 * counted by construction. The outcome → metric mapping lives here and only here.
 *
 * The counts are written after every message is settled, with a deadline, and a failure is
 * logged and dropped: the events matter more than their counts, so a metrics write never fails,
 * delays much or retries a batch.
 */
import type { Logger } from "../log.ts";
import { DEAD_LETTER_KIND } from "./dead-letter-message.ts";
import type { Outcome } from "./outcome.ts";
import type { Settlement } from "./settle.ts";

/** `outcome` label of `edgebus_consumer_messages_total`; messages consumed = their sum. */
export const MESSAGE_OUTCOMES = ["applied", "duplicate", "retried", "dead_lettered"] as const;
export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number];

/**
 * The one mapping from what happened to a message to its metric outcome. What `settle()` did
 * decides (a dead letter the DLQ refused was retried, so it counts as `retried`); for an ack, the
 * handler's note says whether the message was new: `duplicate` (already processed: the dedup
 * ledger, a redelivery the archive already holds) or `applied`. A `stale` event (older than the
 * read model's version, so the version rule left the row as it was) counts as `applied`: it was
 * handled as designed, not skipped as a redelivery.
 */
export function messageOutcome(outcome: Outcome, settlement: Settlement): MessageOutcome {
  switch (settlement.action) {
    case "ack":
      return outcome.kind === "consumed" && outcome.note === "duplicate" ? "duplicate" : "applied";
    case "retry":
      return "retried";
    case "dead-letter":
      return "dead_lettered";
  }
}

/**
 * Bucket upper bounds of the histograms. Writers store per-bucket counts keyed by the bound as
 * Prometheus writes it, so changing a list later leaves earlier rows readable.
 */
export const HISTOGRAM_BOUNDS = {
  /** Messages per batch: the configured batch sizes are 10 (notifier) and 100. */
  batchSize: [1, 2, 5, 10, 20, 50, 100],
  /** Seconds to handle one batch, from receiving it to the last message settled. */
  batchSeconds: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  /** Seconds from the event's `time` or the message's enqueue time to its processing: ms to a day. */
  ageSeconds: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 86_400],
} as const satisfies Record<string, readonly number[]>;

/** `le` label text of a bound (`+Inf` for the overflow bucket). */
export function boundLabel(bound: number): string {
  return Number.isFinite(bound) ? String(bound) : "+Inf";
}

/** One histogram's observations in one batch. `buckets`: per-bucket (not cumulative) counts by `le`. */
export interface HistogramCounts {
  readonly count: number;
  readonly sum: number;
  readonly buckets: Readonly<Record<string, number>>;
}

/** Everything one batch adds to `edgebus.consumer_metrics`. */
export interface BatchCounts {
  readonly consumer: string;
  readonly queue: string;
  readonly messages: Readonly<Record<MessageOutcome, number>>;
  readonly batchSize: HistogramCounts;
  readonly batchSeconds: HistogramCounts;
  /** Now − the event's `time`, per message whose body carries one (`since="event"`). */
  readonly eventAge: HistogramCounts;
  /** Now − the message's enqueue time (`message.timestamp`), per message (`since="enqueue"`). */
  readonly enqueueAge: HistogramCounts;
}

/** Where a batch's counts go. One call per batch; may throw (the kit logs it and carries on). */
export interface ConsumerMetricsSink {
  add(counts: BatchCounts): Promise<void>;
}

class HistogramAccumulator {
  #count = 0;
  #sum = 0;
  readonly #buckets: Record<string, number> = {};
  readonly bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
  }

  observe(value: number): void {
    const bound = this.bounds.find((b) => value <= b) ?? Number.POSITIVE_INFINITY;
    const label = boundLabel(bound);
    this.#buckets[label] = (this.#buckets[label] ?? 0) + 1;
    this.#count++;
    this.#sum += value;
  }

  counts(): HistogramCounts {
    return { count: this.#count, sum: this.#sum, buckets: { ...this.#buckets } };
  }
}

/**
 * The `time` of the event a message carries, when it has a valid one: the body itself (a
 * CloudEvent record) or, in a dead-letter queue, the original event inside edgebus's envelope.
 */
export function eventTimeOf(body: unknown): number | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const event =
    record.kind === DEAD_LETTER_KIND && typeof record.body === "object" && record.body !== null
      ? (record.body as Record<string, unknown>)
      : record;
  if (typeof event.time !== "string") return undefined;
  const ms = Date.parse(event.time);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Counts one batch as its messages are settled. */
export class BatchMetrics {
  readonly #messages: Record<MessageOutcome, number> = { applied: 0, duplicate: 0, retried: 0, dead_lettered: 0 };
  readonly #eventAge = new HistogramAccumulator(HISTOGRAM_BOUNDS.ageSeconds);
  readonly #enqueueAge = new HistogramAccumulator(HISTOGRAM_BOUNDS.ageSeconds);
  #size = 0;
  readonly consumer: string;
  readonly queue: string;
  /** When the Worker received the batch (ms since the epoch). */
  readonly receivedAt: number;

  constructor(consumer: string, queue: string, receivedAt: number) {
    this.consumer = consumer;
    this.queue = queue;
    this.receivedAt = receivedAt;
  }

  /** One settled message, at `now` (ms since the epoch). Ages below zero (clock skew) count as 0. */
  observe(message: { readonly timestamp: Date; readonly body: unknown }, outcome: MessageOutcome, now: number): void {
    this.#size++;
    this.#messages[outcome]++;
    const enqueued = message.timestamp.getTime();
    if (!Number.isNaN(enqueued)) this.#enqueueAge.observe(Math.max(0, now - enqueued) / 1000);
    const time = eventTimeOf(message.body);
    if (time !== undefined) this.#eventAge.observe(Math.max(0, now - time) / 1000);
  }

  /** The batch's counts once every message is settled. */
  finish(now: number): BatchCounts {
    const size = new HistogramAccumulator(HISTOGRAM_BOUNDS.batchSize);
    size.observe(this.#size);
    const seconds = new HistogramAccumulator(HISTOGRAM_BOUNDS.batchSeconds);
    seconds.observe(Math.max(0, now - this.receivedAt) / 1000);
    return {
      consumer: this.consumer,
      queue: this.queue,
      messages: { ...this.#messages },
      batchSize: size.counts(),
      batchSeconds: seconds.counts(),
      eventAge: this.#eventAge.counts(),
      enqueueAge: this.#enqueueAge.counts(),
    };
  }
}

/** How long a batch waits for its counts to be written before it gives up on them. */
export const METRICS_WRITE_TIMEOUT_MS = 5000;

/**
 * Writes `counts` to `sink` within `timeoutMs`; never throws. A failure or a timeout is logged as
 * `consumer metrics not written` (the counts of that batch are lost; the messages are not).
 */
export async function writeBatchMetrics(
  sink: ConsumerMetricsSink,
  counts: BatchCounts,
  logger: Logger,
  timeoutMs = METRICS_WRITE_TIMEOUT_MS,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([sink.add(counts), deadline]);
    return true;
  } catch (thrown) {
    logger.log("warn", "consumer metrics not written", {
      queue: counts.queue,
      consumer: counts.consumer,
      count: Object.values(counts.messages).reduce((a, b) => a + b, 0),
      error_message: thrown instanceof Error ? thrown.message : String(thrown),
    });
    return false;
  } finally {
    clearTimeout(timer);
  }
}
