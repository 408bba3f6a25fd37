-- What the consumer Workers did, for the Prometheus metrics the producer serves at
-- GET /v1/metrics/consumers (docs/metrics.md, "Consumers and queues"). Workers have no scrape
-- endpoint, so each consumer adds one batch's counts here in one upsert per batch
-- (shared/src/db/consumer-metrics-store.ts), and the producer sums them on request.
--
-- One row per (consumer, queue, minute). The archive Worker's daily cron folds minutes older
-- than CONSUMER_METRICS_RETENTION_DAYS into the row of minute '-infinity' (the totals of every
-- pruned minute), in one transaction: the sums never go down, so a Prometheus counter read from
-- them never appears to reset.
--
-- Histograms: `*_buckets` maps each bucket's upper bound as Prometheus writes it ("0.5", "+Inf")
-- to the observations that fell in that bucket and no lower one (not cumulative: the producer
-- accumulates them when rendering, so a later change of bounds keeps old rows readable).
create table edgebus.consumer_metrics (
  consumer              text not null,
  queue                 text not null,
  minute                timestamptz not null,
  -- edgebus_consumer_messages_total{outcome}
  applied               bigint not null default 0,
  duplicate             bigint not null default 0,
  retried               bigint not null default 0,
  dead_lettered         bigint not null default 0,
  -- edgebus_consumer_batch_size and edgebus_consumer_batch_duration_seconds (one observation per batch)
  batches               bigint not null default 0,
  batch_size_sum        double precision not null default 0,
  batch_size_buckets    jsonb not null default '{}',
  batch_seconds_sum     double precision not null default 0,
  batch_seconds_buckets jsonb not null default '{}',
  -- edgebus_consumer_event_age_seconds{since="event"} and {since="enqueue"} (one observation per message)
  event_age_count       bigint not null default 0,
  event_age_sum         double precision not null default 0,
  event_age_buckets     jsonb not null default '{}',
  enqueue_age_count     bigint not null default 0,
  enqueue_age_sum       double precision not null default 0,
  enqueue_age_buckets   jsonb not null default '{}',
  updated_at            timestamptz not null default now(),
  primary key (consumer, queue, minute)
);

-- The retention job selects the minutes to fold by age.
create index consumer_metrics_minute on edgebus.consumer_metrics (minute);

-- {"0.5": 2, "+Inf": 1} + {"0.5": 1, "1": 4} = {"0.5": 3, "1": 4, "+Inf": 1}
create function edgebus.add_counts(a jsonb, b jsonb) returns jsonb
language sql immutable parallel safe as $$
  select coalesce(jsonb_object_agg(bound, total), '{}'::jsonb)
  from (
    select bound, sum(n::numeric) as total
    from (
      select key, value from jsonb_each_text(coalesce(a, '{}'::jsonb))
      union all
      select key, value from jsonb_each_text(coalesce(b, '{}'::jsonb))
    ) as counts(bound, n)
    group by bound
  ) as sums
$$;
