-- citizen_refs: each service's local read model of citizens, fed by gov.auth.citizen.* events
-- (event-carried state transfer). One table per owning service so each can evolve and be
-- granted separately; citizen-sync writes both through the same SQL.
--
-- event_version is the CloudEvents `eventversion` of the last applied event: a row only
-- changes for a newer version, so redelivered and reordered events cannot roll it back.
-- A deleted citizen stays as a tombstone (deleted_at set, personal data cleared) so a late,
-- stale `updated` cannot bring it back.
-- address is jsonb: the catalogue's postal address is structured (line1, city, postal_code,
-- country) and services read it as a whole.
create table permits.citizen_refs (
  citizen_id         bigint primary key,
  name               text,
  email              text,
  phone              text,
  address            jsonb,
  preferred_language text,
  email_verified     boolean not null default false,
  identity_verified  boolean not null default false,
  phone_verified     boolean not null default false,
  address_verified   boolean not null default false,
  event_version      bigint not null check (event_version > 0),
  last_event_id      text not null,
  last_event_source  text not null,
  deleted_at         timestamptz,
  last_synced_at     timestamptz not null default now()
);

create table revenue.citizen_refs (like permits.citizen_refs including all);

comment on table permits.citizen_refs is 'Read model of citizens for permits, maintained by citizen-sync (queue permits-citizen-sync).';
comment on table revenue.citizen_refs is 'Read model of citizens for revenue, maintained by citizen-sync (queue revenue-citizen-sync).';
comment on column permits.citizen_refs.event_version is 'eventversion of the last applied gov.auth.citizen.* event; newer versions only.';
comment on column revenue.citizen_refs.event_version is 'eventversion of the last applied gov.auth.citizen.* event; newer versions only.';
