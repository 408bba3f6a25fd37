/**
 * The reading side of the consumer metrics: the sums of `edgebus.consumer_metrics` per consumer
 * and queue (every minute row plus the folded totals row), and the dead-letter gauges and counter
 * from `edgebus.dead_letters`. Three statements, each one pass over its table (the consumer
 * metrics table holds about one row per consumer, queue and minute of its retention).
 */
import { MESSAGE_OUTCOMES, type MessageOutcome } from "#shared/consumers/consumer-metrics.ts";
import type { Database } from "#shared/db/client.ts";

export type HistogramName = "batch_size" | "batch_seconds" | "event_age" | "enqueue_age";

export interface HistogramSums {
  readonly count: number;
  readonly sum: number;
  /** Per-bucket (not cumulative) counts by `le` text. */
  readonly buckets: Readonly<Record<string, number>>;
}

export interface ConsumerSeries {
  readonly consumer: string;
  readonly queue: string;
  readonly messages: Readonly<Record<MessageOutcome, number>>;
  readonly histograms: Readonly<Record<HistogramName, HistogramSums>>;
}

interface SumsRow {
  consumer: string;
  queue: string;
  applied: number;
  duplicate: number;
  retried: number;
  dead_lettered: number;
  batches: number;
  batch_size_sum: number;
  batch_seconds_sum: number;
  event_age_count: number;
  event_age_sum: number;
  enqueue_age_count: number;
  enqueue_age_sum: number;
}

interface BucketRow {
  consumer: string;
  queue: string;
  histogram: HistogramName;
  le: string;
  count: number;
}

const key = (consumer: string, queue: string) => `${consumer}\u0000${queue}`;

/** Every (consumer, queue) the table knows, with its totals, ordered by consumer and queue. */
export async function readConsumerSeries(sql: Database): Promise<ConsumerSeries[]> {
  const sums = await sql<SumsRow[]>`
    select consumer, queue,
           sum(applied)::float8 as applied, sum(duplicate)::float8 as duplicate,
           sum(retried)::float8 as retried, sum(dead_lettered)::float8 as dead_lettered,
           sum(batches)::float8 as batches, sum(batch_size_sum)::float8 as batch_size_sum,
           sum(batch_seconds_sum)::float8 as batch_seconds_sum,
           sum(event_age_count)::float8 as event_age_count, sum(event_age_sum)::float8 as event_age_sum,
           sum(enqueue_age_count)::float8 as enqueue_age_count, sum(enqueue_age_sum)::float8 as enqueue_age_sum
    from edgebus.consumer_metrics
    group by consumer, queue
    order by consumer, queue`;
  const buckets = await sql<BucketRow[]>`
    select m.consumer, m.queue, h.histogram, b.key as le, sum(b.value::numeric)::float8 as count
    from edgebus.consumer_metrics m
    cross join lateral (values
      ('batch_size', m.batch_size_buckets), ('batch_seconds', m.batch_seconds_buckets),
      ('event_age', m.event_age_buckets), ('enqueue_age', m.enqueue_age_buckets)
    ) as h(histogram, counts)
    cross join lateral jsonb_each_text(h.counts) as b
    group by m.consumer, m.queue, h.histogram, b.key`;
  const bucketsOf = new Map<string, Record<HistogramName, Record<string, number>>>();
  for (const row of buckets) {
    const k = key(row.consumer, row.queue);
    const series = bucketsOf.get(k) ?? { batch_size: {}, batch_seconds: {}, event_age: {}, enqueue_age: {} };
    series[row.histogram][row.le] = row.count;
    bucketsOf.set(k, series);
  }
  return sums.map((row) => {
    const b = bucketsOf.get(key(row.consumer, row.queue));
    return {
      consumer: row.consumer,
      queue: row.queue,
      messages: Object.fromEntries(MESSAGE_OUTCOMES.map((outcome) => [outcome, row[outcome]])) as Record<
        MessageOutcome,
        number
      >,
      histograms: {
        batch_size: { count: row.batches, sum: row.batch_size_sum, buckets: b?.batch_size ?? {} },
        batch_seconds: { count: row.batches, sum: row.batch_seconds_sum, buckets: b?.batch_seconds ?? {} },
        event_age: { count: row.event_age_count, sum: row.event_age_sum, buckets: b?.event_age ?? {} },
        enqueue_age: { count: row.enqueue_age_count, sum: row.enqueue_age_sum, buckets: b?.enqueue_age ?? {} },
      },
    };
  });
}

export interface DeadLetterSeries {
  /** Pending (neither replayed nor discarded) per queue, consumer and error code; 0 where all were handled. */
  readonly pending: readonly { queue: string; consumer: string; errorCode: string; count: number }[];
  /** Per queue: failures stored (the sum of `failure_count`: never decreases) and the oldest pending age. */
  readonly queues: readonly { queue: string; total: number; oldestPendingAgeSeconds: number }[];
}

/** `error_code` label of a letter without one (moved by the platform: reason `platform`). */
export const NO_ERROR_CODE = "none";

export async function readDeadLetterSeries(sql: Database): Promise<DeadLetterSeries> {
  const pending = await sql<{ queue: string; consumer: string; error_code: string; count: number }[]>`
    select queue, consumer, coalesce(error_code, ${NO_ERROR_CODE}) as error_code,
           (count(*) filter (where status = 'pending'))::int as count
    from edgebus.dead_letters
    group by 1, 2, 3
    order by 1, 2, 3`;
  // Pending since its last failure: a replayed letter that fails again is pending anew.
  const queues = await sql<{ queue: string; total: number; oldest: number }[]>`
    select queue, sum(failure_count)::float8 as total,
           coalesce(extract(epoch from now() - min(last_failed_at) filter (where status = 'pending')), 0)::float8 as oldest
    from edgebus.dead_letters
    group by queue
    order by queue`;
  return {
    pending: pending.map((row) => ({
      queue: row.queue,
      consumer: row.consumer,
      errorCode: row.error_code,
      count: row.count,
    })),
    queues: queues.map((row) => ({
      queue: row.queue,
      total: row.total,
      oldestPendingAgeSeconds: Math.max(0, row.oldest),
    })),
  };
}
