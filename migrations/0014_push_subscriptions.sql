-- Citizens' Web Push subscriptions (docs/notifications.md): what a browser's PushSubscription
-- gives the citizen app (`endpoint`, `keys.p256dh`, `keys.auth`), registered through the
-- producer's POST /v1/citizens/{id}/push-subscriptions by the service owning the citizen app.
--
-- An endpoint is one browser's subscription and belongs to one citizen: registering it again
-- (for the same or another citizen) replaces the row. The notifier encrypts each push to the
-- row's keys (RFC 8291) and deletes the row when the push service answers 404 or 410 (the
-- subscription expired or was revoked), so a dead endpoint is tried at most once more.
create table edgebus.push_subscriptions (
  endpoint          text primary key,
  citizen_id        bigint not null,
  p256dh            text not null,
  auth              text not null,
  -- The PushSubscription's expirationTime, when the browser gave one.
  expires_at        timestamptz,
  registered_by     text not null,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now()
);

create index push_subscriptions_citizen on edgebus.push_subscriptions (citizen_id, created_at);

-- The notifier's send ledger gains the push channel: one row per (event, push endpoint).
alter table edgebus.notifications drop constraint notifications_channel_check;
alter table edgebus.notifications
  add constraint notifications_channel_check check (channel in ('email', 'sms', 'webhook', 'push'));
