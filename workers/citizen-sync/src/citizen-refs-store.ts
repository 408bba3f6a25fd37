/**
 * The SQL behind citizen-sync: applies a batch of citizen changes to `<target>.citizen_refs` in
 * ONE statement when it holds no verifications (one round trip; two when it holds an event
 * recorded before, see `applyLedgerAndSnapshots`), otherwise one transaction of set-based
 * statements (4–5 round trips), whatever its size.
 * Shared by the citizen-sync Worker and `bench/citizen-sync.ts`.
 *
 * Guarantees:
 * - effect and `edgebus.processed_events` are written in the same transaction: a redelivered
 *   event (same `source` + `id`) changes nothing and reports `duplicate`;
 * - snapshots and tombstones apply only when strictly newer than the row's `snapshot_version`;
 *   a verification only when newer than the snapshot, and its flag then survives an older
 *   snapshot arriving later (per-flag versions); so reordering within and across batches is
 *   harmless. Within a batch several snapshot/delete events of one citizen collapse to the
 *   newest, the others report `stale`;
 * - `deleted` leaves a tombstone (personal data cleared, `deleted_at` set, version bumped) that a
 *   stale `created`/`updated` cannot resurrect;
 * - `verified` sets a flag only on a live citizen with a newer version. For a citizen not known
 *   yet, or deleted with an older version (a re-creation may still be in flight), it reports
 *   `unknown-citizen` and leaves no trace, so the caller retries it later; a tombstone itself
 *   never gets flags. A verification newer than a tombstone that arrived before it (applied to
 *   the live citizen then) is kept through the tombstone, for the re-creation it belongs to. Any
 *   arrival order, batching and redelivery yields the state of applying the events one by one in
 *   version order (property-tested in citizen-refs-reordering.test.ts; a tombstone keeps no
 *   verification versions of its own past, so a replay into an emptied table reproduces every
 *   column but last_synced_at: citizen-refs-replay.test.ts).
 */
import type { TransactionSql } from "postgres";
import type { Database } from "#shared/db/client.ts";
import { eventKey } from "#shared/envelope/cloud-event.ts";

export const CITIZEN_TARGETS = ["permits", "revenue"] as const;
export type CitizenTarget = (typeof CITIZEN_TARGETS)[number];

export interface CitizenSnapshot {
  readonly name: string;
  readonly email: string;
  readonly phone: string | null;
  readonly address: unknown;
  readonly preferred_language: string | null;
  readonly email_verified: boolean;
  readonly identity_verified: boolean;
}

interface ChangeBase {
  /** Caller's handle for the result (the queue message id). */
  readonly key: string;
  readonly source: string;
  readonly id: string;
  readonly citizenId: number;
  readonly version: number;
}

export type CitizenChange =
  | (ChangeBase & { readonly kind: "snapshot"; readonly snapshot: CitizenSnapshot })
  | (ChangeBase & { readonly kind: "deleted"; readonly deletedAt: string })
  | (ChangeBase & { readonly kind: "verified"; readonly verification: "email" | "phone" | "identity" | "address" });

export type CitizenChangeResult = "applied" | "stale" | "duplicate" | "unknown-citizen";

export async function applyCitizenChanges(
  sql: Database,
  target: CitizenTarget,
  consumer: string,
  changes: readonly CitizenChange[],
): Promise<Map<string, CitizenChangeResult>> {
  const results = new Map<string, CitizenChangeResult>();
  if (changes.length === 0) return results;
  if (!CITIZEN_TARGETS.includes(target)) throw new Error(`unknown citizen_refs target ${target}`);

  // The same event twice in one batch: the first copy is processed, the rest are duplicates.
  const firstCopies = new Map<string, CitizenChange>();
  for (const change of changes) {
    const key = eventKey(change);
    if (firstCopies.has(key)) results.set(change.key, "duplicate");
    else firstCopies.set(key, change);
  }
  const unique = [...firstCopies.values()];

  // Without verifications the whole batch is ONE statement (ledger rows, newest snapshot per
  // citizen, version-guarded upsert): one round trip, atomic on its own. Verifications must see
  // the snapshots written before them, which one statement cannot: such a batch runs the same
  // statement and then the verification pass in a transaction.
  if (!unique.some((change) => change.kind === "verified")) {
    await applyLedgerAndSnapshots(sql, target, consumer, unique, results, { optimistic: true });
    return results;
  }

  await sql.begin(async (tx) => {
    const table = tx`${tx(target)}.citizen_refs`;
    // Inside a transaction a failed statement would abort it: straight to `on conflict do nothing`.
    const fresh = await applyLedgerAndSnapshots(tx, target, consumer, unique, results, { optimistic: false });
    const pending = unique.filter((change) => fresh.has(change));

    const verifications = pending.filter((change) => change.kind === "verified");
    if (verifications.length > 0) {
      const input = JSON.stringify(
        verifications.map((change) => ({
          source: change.source,
          id: change.id,
          citizen_id: change.citizenId,
          version: change.version,
          verification: change.verification,
        })),
      );
      // The outer select reads the rows as they were before this statement's update (a
      // data-modifying CTE always runs to completion, read or not), so `newer` compares with the
      // version before any verification of this batch.
      const verdicts = await tx<{ source: string; id: string; known: boolean; newer: boolean }[]>`
        with v as (
          select * from jsonb_to_recordset(${input}::text::jsonb)
            as x(source text, id text, citizen_id bigint, version bigint, verification text)
        ),
        merged as (
          select v.citizen_id,
                 max(v.version) filter (where v.verification = 'email') as email,
                 max(v.version) filter (where v.verification = 'identity') as identity,
                 max(v.version) filter (where v.verification = 'phone') as phone,
                 max(v.version) filter (where v.verification = 'address') as address,
                 max(v.version) as version,
                 (array_agg(v.id order by v.version desc))[1] as event_id,
                 (array_agg(v.source order by v.version desc))[1] as event_source
          from v join ${table} c on c.citizen_id = v.citizen_id
          where v.version > coalesce(c.snapshot_version, c.event_version) and c.deleted_at is null
          group by v.citizen_id
        ),
        updated as (
          update ${table} c set
            email_verified = c.email_verified or m.email is not null,
            identity_verified = c.identity_verified or m.identity is not null,
            phone_verified = c.phone_verified or m.phone is not null,
            address_verified = c.address_verified or m.address is not null,
            email_verified_version = greatest(c.email_verified_version, coalesce(m.email, 0)),
            identity_verified_version = greatest(c.identity_verified_version, coalesce(m.identity, 0)),
            phone_verified_version = greatest(c.phone_verified_version, coalesce(m.phone, 0)),
            address_verified_version = greatest(c.address_verified_version, coalesce(m.address, 0)),
            event_version = greatest(c.event_version, m.version),
            last_event_id = m.event_id,
            last_event_source = m.event_source,
            last_synced_at = now()
          from merged m
          where c.citizen_id = m.citizen_id
          returning c.citizen_id
        )
        select v.source, v.id,
               c.citizen_id is not null and (c.deleted_at is null or v.version <= coalesce(c.snapshot_version, c.event_version)) as known,
               v.version > coalesce(c.snapshot_version, c.event_version, 0) and c.deleted_at is null as newer
        from v left join ${table} c on c.citizen_id = v.citizen_id`;
      const unknown: { source: string; id: string }[] = [];
      const verdictByEvent = new Map(verdicts.map((row) => [eventKey(row), row]));
      for (const change of verifications) {
        const verdict = verdictByEvent.get(eventKey(change));
        if (verdict === undefined || !verdict.known) {
          results.set(change.key, "unknown-citizen");
          unknown.push({ source: change.source, id: change.id });
        } else results.set(change.key, verdict.newer ? "applied" : "stale");
      }
      if (unknown.length > 0) {
        // Not processed after all: forget the ledger rows so the retry is not taken for a duplicate.
        await tx`
          delete from edgebus.processed_events p
          using jsonb_to_recordset(${JSON.stringify(unknown)}::text::jsonb) as x(source text, id text)
          where p.consumer = ${consumer} and p.source = x.source and p.id = x.id`;
      }
    }
  });
  return results;
}

/**
 * A change as the statement reads it: one JSON array per change, the columns by position
 * (`[kind, source, id, citizen_id, version, name, email, phone, address, preferred_language,
 * email_verified, identity_verified, deleted_at]`; a verification stops after `version`). Arrays
 * rather than objects: no key names repeated in every row, so about 40% less JSON to build, send
 * and parse per batch.
 */
function changeRow(change: CitizenChange): unknown[] {
  const head = [change.kind, change.source, change.id, change.citizenId, change.version];
  if (change.kind === "verified") return head;
  if (change.kind === "deleted") return [...head, null, null, null, null, null, false, false, change.deletedAt];
  const s = change.snapshot;
  return [
    ...head,
    s.name,
    s.email,
    s.phone,
    s.address,
    s.preferred_language,
    s.email_verified,
    s.identity_verified,
    null,
  ];
}

/**
 * Ledger rows for every change and the snapshots/tombstones in one statement: data-modifying
 * CTEs record the ledger rows, keep the newest fresh snapshot or tombstone per citizen
 * (`distinct on`, the later message on a tie) and upsert them under the version guard. Sets the
 * outcome of every duplicate, snapshot and tombstone, and returns the fresh changes
 * (verifications among them are the caller's to apply). The answer is one row: the positions of
 * the fresh changes and the citizens written, as JSON arrays.
 *
 * `optimistic` (a statement on its own, not inside a transaction): the ledger rows are first
 * inserted without `on conflict do nothing`, which spares Postgres probing the ledger's key
 * before each insert (about a quarter of the ledger's cost). An event already recorded then
 * fails the whole statement with a unique violation on `processed_events`, which leaves nothing
 * behind, and the batch runs again with `on conflict do nothing`, so redeliveries cost one more
 * round trip and get the same results as before.
 */
async function applyLedgerAndSnapshots(
  sql: Database | TransactionSql,
  target: CitizenTarget,
  consumer: string,
  unique: readonly CitizenChange[],
  results: Map<string, CitizenChangeResult>,
  { optimistic }: { optimistic: boolean },
): Promise<Set<CitizenChange>> {
  const input = JSON.stringify(unique.map(changeRow));
  let answer: LedgerAnswer | undefined;
  if (optimistic) {
    try {
      [answer] = await ledgerAndSnapshotsStatement(sql, target, consumer, input, false);
    } catch (thrown) {
      if (!isLedgerConflict(thrown)) throw thrown;
      [answer] = await ledgerAndSnapshotsStatement(sql, target, consumer, input, true);
    }
  } else [answer] = await ledgerAndSnapshotsStatement(sql, target, consumer, input, true);
  if (answer === undefined) throw new Error("citizen_refs statement returned no row");
  const fresh = new Set<CitizenChange>();
  for (const ord of JSON.parse(answer.fresh) as number[]) {
    const change = unique[ord];
    if (change !== undefined) fresh.add(change);
  }
  const applied = new Set(JSON.parse(answer.applied) as number[]);
  const newest = new Map<number, Exclude<CitizenChange, { kind: "verified" }>>();
  for (const change of unique) {
    if (!fresh.has(change)) {
      results.set(change.key, "duplicate");
      continue;
    }
    if (change.kind === "verified") continue;
    const current = newest.get(change.citizenId);
    if (current !== undefined && current.version > change.version) results.set(change.key, "stale");
    else {
      if (current !== undefined) results.set(current.key, "stale");
      newest.set(change.citizenId, change);
    }
  }
  for (const change of newest.values()) results.set(change.key, applied.has(change.citizenId) ? "applied" : "stale");
  return fresh;
}

interface LedgerAnswer {
  readonly fresh: string;
  readonly applied: string;
}

/** A unique violation on the ledger's key: an event of the batch was recorded before. */
function isLedgerConflict(thrown: unknown): boolean {
  const error = thrown as { code?: unknown; schema_name?: unknown; table_name?: unknown } | null;
  return (
    typeof error === "object" &&
    error !== null &&
    error.code === "23505" &&
    error.schema_name === "edgebus" &&
    error.table_name === "processed_events"
  );
}

/** The statement of `applyLedgerAndSnapshots`, its ledger insert with or without `on conflict do nothing`. */
function ledgerAndSnapshotsStatement(
  sql: Database | TransactionSql,
  target: CitizenTarget,
  consumer: string,
  input: string,
  skipRecorded: boolean,
) {
  return sql<LedgerAnswer[]>`
    with x as (
      select (o - 1)::int as ord, e->>0 as kind, e->>1 as source, e->>2 as id, (e->>3)::bigint as citizen_id,
             (e->>4)::bigint as version, e->>5 as name, e->>6 as email, e->>7 as phone,
             nullif(e->8, 'null'::jsonb) as address, e->>9 as preferred_language,
             (e->>10)::boolean as email_verified, (e->>11)::boolean as identity_verified,
             (e->>12)::timestamptz as deleted_at
      from jsonb_array_elements(${input}::text::jsonb) with ordinality as t(e, o)
    ),
    recorded as (
      insert into edgebus.processed_events (consumer, source, id)
      select ${consumer}, x.source, x.id from x
      ${skipRecorded ? sql`on conflict do nothing` : sql``}
      returning source, id
    ),
    fresh as (
      select x.* from x join recorded r on r.source = x.source and r.id = x.id
    ),
    newest as (
      select distinct on (x.citizen_id) x.*
      from fresh x
      where x.kind <> 'verified'
      order by x.citizen_id, x.version desc, x.ord desc
    ),
    written as (
      insert into ${sql(target)}.citizen_refs as c (
        citizen_id, name, email, phone, address, preferred_language, email_verified, identity_verified,
        phone_verified, address_verified, event_version, snapshot_version, last_event_id, last_event_source,
        deleted_at, last_synced_at
      )
      select x.citizen_id, x.name, x.email, x.phone, x.address, x.preferred_language, x.email_verified,
             x.identity_verified, false, false, x.version, x.version, x.id, x.source, x.deleted_at, now()
      from newest x
      on conflict (citizen_id) do update set
        name = excluded.name,
        email = excluded.email,
        phone = excluded.phone,
        address = excluded.address,
        preferred_language = excluded.preferred_language,
        email_verified = excluded.deleted_at is null
          and (excluded.email_verified or c.email_verified_version > excluded.snapshot_version),
        identity_verified = excluded.deleted_at is null
          and (excluded.identity_verified or c.identity_verified_version > excluded.snapshot_version),
        phone_verified = excluded.deleted_at is null
          and (c.phone_verified_version > excluded.snapshot_version
               or (c.phone_verified and c.phone is not distinct from excluded.phone)),
        address_verified = excluded.deleted_at is null
          and (c.address_verified_version > excluded.snapshot_version
               or (c.address_verified and c.address is not distinct from excluded.address)),
        -- A tombstone drops the verifications of the life it ends, but keeps one newer than
        -- itself: that verification arrived early and belongs to a re-creation still in flight.
        email_verified_version = case when excluded.deleted_at is null
          or c.email_verified_version > excluded.snapshot_version then c.email_verified_version else 0 end,
        identity_verified_version = case when excluded.deleted_at is null
          or c.identity_verified_version > excluded.snapshot_version then c.identity_verified_version else 0 end,
        phone_verified_version = case when excluded.deleted_at is null
          or c.phone_verified_version > excluded.snapshot_version then c.phone_verified_version else 0 end,
        address_verified_version = case when excluded.deleted_at is null
          or c.address_verified_version > excluded.snapshot_version then c.address_verified_version else 0 end,
        snapshot_version = excluded.snapshot_version,
        event_version = greatest(c.event_version, excluded.event_version),
        last_event_id = excluded.last_event_id,
        last_event_source = excluded.last_event_source,
        deleted_at = excluded.deleted_at,
        last_synced_at = now()
      where coalesce(c.snapshot_version, c.event_version) < excluded.snapshot_version
      returning c.citizen_id
    )
    select (select coalesce(json_agg(ord), '[]') from fresh)::text as fresh,
           (select coalesce(json_agg(citizen_id), '[]') from written)::text as applied`;
}
