-- Ordering per aspect. Until now one event_version guarded everything, and a verification (which
-- carries only a flag) raised it: an older `updated` still in flight then looked stale and its
-- changes were lost. Now snapshots and tombstones are ordered by snapshot_version, each
-- verification flag remembers the version that set it (so a snapshot older than the
-- verification keeps the flag), and event_version stays the highest version applied.
-- snapshot_version is null on rows written before this migration or by other writers (test
-- fixtures); event_version stands in for it there (coalesce in citizen-refs-store.ts).
alter table permits.citizen_refs
  add column snapshot_version          bigint,
  add column email_verified_version    bigint not null default 0,
  add column identity_verified_version bigint not null default 0,
  add column phone_verified_version    bigint not null default 0,
  add column address_verified_version  bigint not null default 0;
update permits.citizen_refs set snapshot_version = event_version;

alter table revenue.citizen_refs
  add column snapshot_version          bigint,
  add column email_verified_version    bigint not null default 0,
  add column identity_verified_version bigint not null default 0,
  add column phone_verified_version    bigint not null default 0,
  add column address_verified_version  bigint not null default 0;
update revenue.citizen_refs set snapshot_version = event_version;

comment on column permits.citizen_refs.event_version is 'Highest eventversion applied (snapshot, tombstone or verification).';
comment on column revenue.citizen_refs.event_version is 'Highest eventversion applied (snapshot, tombstone or verification).';
comment on column permits.citizen_refs.snapshot_version is 'eventversion of the applied created/updated/deleted (null: use event_version); newer snapshots only.';
comment on column revenue.citizen_refs.snapshot_version is 'eventversion of the applied created/updated/deleted (null: use event_version); newer snapshots only.';
