-- The dedup ledger: a consumer records (consumer, source, id) in the same transaction as its
-- effect, so a redelivered event is recognised and changes nothing.
create table edgebus.processed_events (
  consumer     text not null,
  source       text not null,
  id           text not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, source, id)
);

-- Ledger pruning deletes by age.
create index processed_events_processed_at on edgebus.processed_events (processed_at);
