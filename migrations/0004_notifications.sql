-- One row per notification send (event x channel x recipient). The idempotency key is passed to
-- the provider and is unique here, so a redelivered event never sends twice.
create table edgebus.notifications (
  id                  bigint generated always as identity primary key,
  event_source        text not null,
  event_id            text not null,
  event_type          text not null,
  channel             text not null check (channel in ('email', 'sms', 'webhook')),
  recipient           text not null,
  template            text not null,
  idempotency_key     text not null unique,
  provider            text,
  provider_message_id text,
  status              text not null default 'pending'
                      check (status in ('pending', 'sending', 'sent', 'delivered', 'failed', 'skipped')),
  attempts            integer not null default 0 check (attempts >= 0),
  last_error          text,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  sent_at             timestamptz
);

-- "What did this event send?" and the status dashboards.
create index notifications_event on edgebus.notifications (event_source, event_id);
create index notifications_status_updated on edgebus.notifications (status, updated_at);
