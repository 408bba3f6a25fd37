/**
 * Retention of `edgebus.consumer_metrics`, run by the archive Worker's daily cron: minute rows
 * older than `retentionDays` are folded into their (consumer, queue) totals row (minute
 * `-infinity`) in one transaction. Deleting them would lower the sums the producer serves as
 * Prometheus counters, which Prometheus would read as a counter reset; folding keeps every sum
 * as it was and bounds the table at about one row per consumer, queue and minute of the window.
 */
import type { Database } from "#shared/db/client.ts";
import { addToExistingRow } from "#shared/db/consumer-metrics-store.ts";

export async function pruneConsumerMetrics(
  sql: Database,
  { retentionDays }: { retentionDays: number },
): Promise<{ folded: number }> {
  const [result] = await sql<{ folded: number }[]>`
    with expired as (
      delete from edgebus.consumer_metrics
      where minute <> '-infinity'::timestamptz
        and minute < date_trunc('minute', now()) - make_interval(days => ${retentionDays}::int)
      returning *
    ),
    totals as (
      select consumer, queue,
             sum(applied) as applied, sum(duplicate) as duplicate, sum(retried) as retried,
             sum(dead_lettered) as dead_lettered, sum(batches) as batches,
             sum(batch_size_sum) as batch_size_sum, sum(batch_seconds_sum) as batch_seconds_sum,
             sum(event_age_count) as event_age_count, sum(event_age_sum) as event_age_sum,
             sum(enqueue_age_count) as enqueue_age_count, sum(enqueue_age_sum) as enqueue_age_sum,
             count(*) as rows
      from expired
      group by consumer, queue
    ),
    buckets as (
      select consumer, queue, histogram, jsonb_object_agg(bound, total) as counts
      from (
        select e.consumer, e.queue, h.histogram, b.key as bound, sum(b.value::numeric) as total
        from expired e
        cross join lateral (values
          ('batch_size', e.batch_size_buckets), ('batch_seconds', e.batch_seconds_buckets),
          ('event_age', e.event_age_buckets), ('enqueue_age', e.enqueue_age_buckets)
        ) as h(histogram, counts)
        cross join lateral jsonb_each_text(h.counts) as b
        group by e.consumer, e.queue, h.histogram, b.key
      ) as per_bound
      group by consumer, queue, histogram
    ),
    folded as (
      insert into edgebus.consumer_metrics as m (
        consumer, queue, minute, applied, duplicate, retried, dead_lettered,
        batches, batch_size_sum, batch_size_buckets, batch_seconds_sum, batch_seconds_buckets,
        event_age_count, event_age_sum, event_age_buckets, enqueue_age_count, enqueue_age_sum, enqueue_age_buckets
      )
      select t.consumer, t.queue, '-infinity'::timestamptz, t.applied, t.duplicate, t.retried, t.dead_lettered,
             t.batches, t.batch_size_sum, coalesce(bs.counts, '{}'), t.batch_seconds_sum, coalesce(bd.counts, '{}'),
             t.event_age_count, t.event_age_sum, coalesce(ea.counts, '{}'),
             t.enqueue_age_count, t.enqueue_age_sum, coalesce(qa.counts, '{}')
      from totals t
      left join buckets bs on (bs.consumer, bs.queue, bs.histogram) = (t.consumer, t.queue, 'batch_size')
      left join buckets bd on (bd.consumer, bd.queue, bd.histogram) = (t.consumer, t.queue, 'batch_seconds')
      left join buckets ea on (ea.consumer, ea.queue, ea.histogram) = (t.consumer, t.queue, 'event_age')
      left join buckets qa on (qa.consumer, qa.queue, qa.histogram) = (t.consumer, t.queue, 'enqueue_age')
      ${addToExistingRow(sql)}
      returning 1
    )
    select coalesce((select sum(rows) from totals), 0)::int as folded, (select count(*) from folded) as totals_rows`;
  return { folded: result?.folded ?? 0 };
}
