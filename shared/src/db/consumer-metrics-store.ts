/**
 * `edgebus.consumer_metrics` (migrations/0012_consumer_metrics.sql), the writing side: one upsert
 * per batch adds the batch's counts to the row of (consumer, queue, the database's current
 * minute). The producer reads the table (`GET /v1/metrics/consumers`), the archive Worker's cron
 * folds old minutes into the totals row.
 */
import type { BatchCounts, ConsumerMetricsSink } from "../consumers/consumer-metrics.ts";
import { type Database, databaseError } from "./client.ts";

/** The sink every consumer Worker passes to `consumeBatch` / `settleBatch`. */
export function postgresConsumerMetrics(sql: Database): ConsumerMetricsSink {
  return {
    async add(counts) {
      try {
        await addBatchCounts(sql, counts);
      } catch (thrown) {
        throw databaseError(thrown, "writing edgebus.consumer_metrics");
      }
    },
  };
}

/** One statement: insert the minute's row or add to it. */
export async function addBatchCounts(sql: Database, counts: BatchCounts): Promise<void> {
  const { messages, batchSize, batchSeconds, eventAge, enqueueAge } = counts;
  await sql`
    insert into edgebus.consumer_metrics as m (
      consumer, queue, minute, applied, duplicate, retried, dead_lettered,
      batches, batch_size_sum, batch_size_buckets, batch_seconds_sum, batch_seconds_buckets,
      event_age_count, event_age_sum, event_age_buckets, enqueue_age_count, enqueue_age_sum, enqueue_age_buckets
    ) values (
      ${counts.consumer}, ${counts.queue}, date_trunc('minute', now()),
      ${messages.applied}::bigint, ${messages.duplicate}::bigint, ${messages.retried}::bigint,
      ${messages.dead_lettered}::bigint,
      ${batchSize.count}::bigint, ${batchSize.sum}::float8, ${JSON.stringify(batchSize.buckets)}::text::jsonb,
      ${batchSeconds.sum}::float8, ${JSON.stringify(batchSeconds.buckets)}::text::jsonb,
      ${eventAge.count}::bigint, ${eventAge.sum}::float8, ${JSON.stringify(eventAge.buckets)}::text::jsonb,
      ${enqueueAge.count}::bigint, ${enqueueAge.sum}::float8, ${JSON.stringify(enqueueAge.buckets)}::text::jsonb
    )
    ${addToExistingRow(sql)}`;
}

/**
 * The upsert clause that adds a new row's counts to the existing row of the same (consumer,
 * queue, minute): every counter summed, histogram buckets added bound by bound. The batch writer
 * and the archive Worker's retention fold use it, so the two cannot add differently.
 */
export function addToExistingRow(sql: Database) {
  return sql`
on conflict (consumer, queue, minute) do update set
  applied = m.applied + excluded.applied,
  duplicate = m.duplicate + excluded.duplicate,
  retried = m.retried + excluded.retried,
  dead_lettered = m.dead_lettered + excluded.dead_lettered,
  batches = m.batches + excluded.batches,
  batch_size_sum = m.batch_size_sum + excluded.batch_size_sum,
  batch_size_buckets = edgebus.add_counts(m.batch_size_buckets, excluded.batch_size_buckets),
  batch_seconds_sum = m.batch_seconds_sum + excluded.batch_seconds_sum,
  batch_seconds_buckets = edgebus.add_counts(m.batch_seconds_buckets, excluded.batch_seconds_buckets),
  event_age_count = m.event_age_count + excluded.event_age_count,
  event_age_sum = m.event_age_sum + excluded.event_age_sum,
  event_age_buckets = edgebus.add_counts(m.event_age_buckets, excluded.event_age_buckets),
  enqueue_age_count = m.enqueue_age_count + excluded.enqueue_age_count,
  enqueue_age_sum = m.enqueue_age_sum + excluded.enqueue_age_sum,
  enqueue_age_buckets = edgebus.add_counts(m.enqueue_age_buckets, excluded.enqueue_age_buckets),
  updated_at = now()`;
}
