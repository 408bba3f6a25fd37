-- Every event once, for replay by type and time window. Not partitioned: a partitioned table
-- cannot enforce unique (source, id) without the partition key, and that uniqueness is what makes
-- archiving idempotent. The (type, time) index serves replay windows; archived_at serves the
-- retention job, which deletes in bounded chunks.
create table edgebus.event_archive (
  seq           bigint generated always as identity primary key,
  source        text not null,
  id            text not null,
  type          text not null,
  subject       text,
  partitionkey  text,
  time          timestamptz not null,
  eventversion  bigint,
  correlationid text,
  event         jsonb not null,
  archived_at   timestamptz not null default now(),
  unique (source, id)
);

create index event_archive_type_time on edgebus.event_archive (type, time);
create index event_archive_archived_at on edgebus.event_archive (archived_at);
