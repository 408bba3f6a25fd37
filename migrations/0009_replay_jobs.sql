-- Replay jobs of the admin API: a bulk dead-letter redrive (`POST /v1/dead-letters/replay`) or an
-- archive replay (`POST /v1/replay`). The row is the job's whole state: the producer's
-- ReplayJobRunner Durable Object sends one rate-limited slice per alarm and advances `cursor`
-- and `sent` here, so progress survives the request that created the job and any restart.
--
-- The selection is fixed when the job is created: `filter` (type pattern and time window, or the
-- dead-letter filter) plus `upper_bound` (highest archive seq / dead-letter id that existed
-- then), so a job always ends even while new events keep arriving.
create table edgebus.replay_jobs (
  id              text primary key,
  kind            text not null check (kind in ('archive', 'dead-letters')),
  status          text not null default 'running'
                  check (status in ('running', 'completed', 'failed', 'cancelled')),
  -- Archive jobs: the queue every event goes to. Dead-letter jobs: null (each entry goes back to
  -- the queue it failed on).
  target_queue    text,
  filter          jsonb not null,
  upper_bound     bigint not null,
  rate_per_second integer not null check (rate_per_second > 0),
  requested_by    text not null,
  -- Matching messages when the job was created (dead letters replayed by hand meanwhile are
  -- skipped, so `sent` may end below `total`).
  total           bigint not null check (total >= 0),
  sent            bigint not null default 0 check (sent >= 0),
  -- Archive: {"time": "<timestamptz text>", "seq": n} of the last sent event; dead letters: {"id": n}.
  cursor          jsonb,
  -- Consecutive failed ticks (reset by a successful one) and the last error.
  failures        integer not null default 0,
  last_error      text,
  -- Archive replay into an emptied read model (see docs/api.md "Rebuild a read model").
  rebuild         boolean not null default false,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  finished_at     timestamptz
);

create index replay_jobs_created on edgebus.replay_jobs (created_at desc);
create index replay_jobs_status on edgebus.replay_jobs (status) where status = 'running';

-- Bulk redrive walks pending dead letters in id order; the primary key serves `id > cursor`,
-- this index keeps the walk on pending rows only.
create index dead_letters_pending_id on edgebus.dead_letters (id) where status = 'pending';

-- Archive replay walks a time window in (time, seq) order with a type pattern (`gov.auth.*`) as a
-- filter; the (type, time) index of 0006 serves one exact type, this one any pattern.
create index event_archive_time_seq on edgebus.event_archive (time, seq);
