-- The notifier records which locale it rendered a notification in (so support can read what
-- the citizen received) and why a send was skipped (no email address, no phone, unknown
-- citizen). A skipped row always says why.
alter table edgebus.notifications
  add column locale text,
  add column skip_reason text,
  add constraint notifications_skip_reason check (status <> 'skipped' or skip_reason is not null);
