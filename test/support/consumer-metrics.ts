/**
 * What a consumer Worker wrote to `edgebus.consumer_metrics` for one (consumer, queue), summed
 * over its minute rows, for the Worker tests (Web APIs and postgres.js only: runs inside workerd).
 * Tests give their batches a queue name of their own (`metricsQueue()`), so the sums are theirs
 * alone in the shared test database.
 */
import type postgres from "postgres";

export interface ConsumerMetricsTotals {
  applied: number;
  duplicate: number;
  retried: number;
  dead_lettered: number;
  batches: number;
  batch_size_sum: number;
  event_age_count: number;
  enqueue_age_count: number;
}

/** A queue name no other test uses: `<queue>-metrics-<random>`. */
export function metricsQueue(queue: string): string {
  return `${queue}-metrics-${crypto.randomUUID().slice(0, 8)}`;
}

export async function consumerMetricsTotals(
  sql: postgres.Sql,
  consumer: string,
  queue: string,
): Promise<ConsumerMetricsTotals> {
  const [row] = await sql<ConsumerMetricsTotals[]>`
    select coalesce(sum(applied), 0)::int as applied, coalesce(sum(duplicate), 0)::int as duplicate,
           coalesce(sum(retried), 0)::int as retried, coalesce(sum(dead_lettered), 0)::int as dead_lettered,
           coalesce(sum(batches), 0)::int as batches, coalesce(sum(batch_size_sum), 0)::int as batch_size_sum,
           coalesce(sum(event_age_count), 0)::int as event_age_count,
           coalesce(sum(enqueue_age_count), 0)::int as enqueue_age_count
    from edgebus.consumer_metrics where consumer = ${consumer} and queue = ${queue}`;
  return row as ConsumerMetricsTotals;
}
