-- A send whose outcome is unknown: the provider call timed out, or the connection dropped, after
-- the request went out, so the provider may have accepted it. Such a send is `unknown`, never
-- `failed` (a failed send is sent again at once). After a visibility window (a provider's own
-- records lag) the notifier asks the provider — Twilio's message list, SendGrid's Email Activity —
-- and sends again only when the provider has no record; without a lookup UNKNOWN_OUTCOME_POLICY
-- sends again or gives up. A `sending` row whose attempt stopped without recording its outcome (a
-- crash, a long database outage) becomes `unknown` the same way once its lease expired.
--   unknown_since    when the outcome became unknown (for a stopped attempt: when it started)
--   reconcile_after  from when a delivery may ask the provider or send again; null = given up
--   reconciliation   how it was settled: found (the provider had it; not sent again), not_found
--                    (no record; sent again), resent (no lookup; sent again by policy), given_up
--                    (no lookup; not sent again by policy)
alter table edgebus.notifications drop constraint notifications_status_check;
alter table edgebus.notifications
  add constraint notifications_status_check
    check (status in ('pending', 'sending', 'sent', 'delivered', 'failed', 'skipped', 'unknown')),
  add column unknown_since timestamptz,
  add column reconcile_after timestamptz,
  add column reconciliation text,
  add constraint notifications_reconciliation
    check (reconciliation in ('found', 'not_found', 'resent', 'given_up'));
