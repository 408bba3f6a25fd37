-- Run-time webhook subscriptions (docs/webhooks.md): a subscriber registers a URL and an event
-- pattern through the producer's API (/v1/subscriptions), without a deploy.
--
-- edgebus.webhook_subscriptions: one row per subscription. `filter` is an event pattern (the
-- routing rules' language), `fields` an optional selection of event paths (only those reach the
-- subscriber). `secrets` holds the signing secrets, newest first: [{secret, created_at,
-- expires_at}] — after a rotation the old one stays valid until its `expires_at`.
-- `failing_since` is the start of the current run of failed attempts (null while healthy); the
-- dispatcher disables the subscription once it is older than WEBHOOK_DISABLE_AFTER_DAYS.
create table edgebus.webhook_subscriptions (
  id              text primary key,
  owner_key_id    text not null,
  url             text not null,
  description     text not null default '',
  filter          jsonb not null,
  fields          jsonb,
  rate_limit      jsonb,
  status          text not null default 'active' check (status in ('active', 'paused', 'disabled')),
  disabled_reason text,
  disabled_at     timestamptz,
  secrets         jsonb not null,
  failing_since   timestamptz,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);

create index webhook_subscriptions_owner on edgebus.webhook_subscriptions (owner_key_id, created_at);

-- The outbox: one row per (subscription, event), written by the producer when it publishes a
-- matching event (or by POST /v1/subscriptions/{id}/test). `seq` is the order of arrival; the
-- dispatcher of a subscription sends its pending rows in `seq` order, the head first.
-- `message_id` is the Standard Webhooks webhook-id, the same for every attempt of the row.
-- `body` is the exact JSON sent (already reduced to the subscription's fields).
create table edgebus.webhook_deliveries (
  seq             bigserial primary key,
  subscription_id text not null references edgebus.webhook_subscriptions (id) on delete cascade,
  message_id      text not null unique,
  event_source    text not null,
  event_id        text not null,
  event_type      text not null,
  body            text not null,
  status          text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts        integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_status     integer,
  last_error      text,
  created_at      timestamptz not null default now(),
  finished_at     timestamptz,
  unique (subscription_id, event_source, event_id)
);

create index webhook_deliveries_pending on edgebus.webhook_deliveries (subscription_id, seq) where status = 'pending';
create index webhook_deliveries_history on edgebus.webhook_deliveries (subscription_id, seq desc);
create index webhook_deliveries_created on edgebus.webhook_deliveries (created_at);

-- Every attempt of a delivery: HTTP status (null when there was no answer), latency, the first
-- bytes of the answer or the error. Kept with their delivery (retention: WEBHOOK_HISTORY_DAYS).
create table edgebus.webhook_attempts (
  id              bigserial primary key,
  delivery_seq    bigint not null references edgebus.webhook_deliveries (seq) on delete cascade,
  attempted_at    timestamptz not null default now(),
  status_code     integer,
  latency_ms      integer not null,
  outcome         text not null check (outcome in ('delivered', 'retry', 'failed', 'gone', 'refused')),
  response_snippet text,
  error           text
);

create index webhook_attempts_delivery on edgebus.webhook_attempts (delivery_seq, id);
