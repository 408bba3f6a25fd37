-- Messages a consumer gave up on, moved here from the <queue>-dlq queues by the dead-letter
-- consumer. One row per (queue, event source, event id): a repeated failure of the same event
-- updates attempts / last_failed_at instead of adding rows. status drives the redrive feature
-- (admin API: list, replay, discard).
create table edgebus.dead_letters (
  id               bigint generated always as identity primary key,
  queue            text not null,
  consumer         text not null,
  event_source     text not null,
  event_id         text not null,
  event_type       text,
  message_id       text,
  -- The original queue message body (normally the CloudEvent record), unchanged.
  event            jsonb not null,
  error_code       text,
  error_type       text,
  error_message    text,
  -- permanent (retrying cannot help), exhausted (retries ran out), platform (moved by
  -- Cloudflare without error details).
  failure_reason   text not null check (failure_reason in ('permanent', 'exhausted', 'platform')),
  error_details    jsonb,
  attempts         integer not null check (attempts >= 0),
  failure_count    integer not null default 1 check (failure_count >= 1),
  first_failed_at  timestamptz not null,
  last_failed_at   timestamptz not null,
  status           text not null default 'pending' check (status in ('pending', 'replayed', 'discarded')),
  replayed_at      timestamptz,
  replayed_by      text,
  replay_count     integer not null default 0,
  discarded_at     timestamptz,
  discarded_by     text,
  discarded_reason text,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  unique (queue, event_source, event_id)
);

-- Admin listing: pending first, newest failures first, optionally by queue or type.
create index dead_letters_status_last_failed on edgebus.dead_letters (status, last_failed_at desc);
create index dead_letters_queue_status on edgebus.dead_letters (queue, status);
create index dead_letters_type_status on edgebus.dead_letters (event_type, status);
