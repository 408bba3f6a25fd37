/**
 * The SQL behind citizen-sync: applies a batch of citizen changes to `<target>.citizen_refs` in
 * ONE transaction with set-based statements (2–4 round trips per batch, whatever its size).
 * Shared by the citizen-sync Worker and `bench/citizen-sync.ts`.
 *
 * Guarantees:
 * - effect and `edgebus.processed_events` are written in the same transaction: a redelivered
 *   event (same `source` + `id`) changes nothing and reports `duplicate`;
 * - a row changes only for a strictly newer `eventversion` (reordering within and across
 *   batches is harmless); within a batch several snapshot/delete events of one citizen collapse
 *   to the newest, the others report `stale`;
 * - `deleted` leaves a tombstone (personal data cleared, `deleted_at` set, version bumped) that a
 *   stale `created`/`updated` cannot resurrect;
 * - `verified` sets a flag only on a known, not deleted citizen with a newer version (on a
 *   tombstone it is `stale`: a deleted citizen keeps no personal attributes); for a citizen not yet
 *   known it reports `unknown-citizen` and leaves no trace, so the caller can retry it after the
 *   citizen's `created` event arrives.
 */
import type { Database } from "./client.ts";

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

const eventKey = (c: { source: string; id: string }) => `${c.source}\u0000${c.id}`;

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
    if (firstCopies.has(eventKey(change))) results.set(change.key, "duplicate");
    else firstCopies.set(eventKey(change), change);
  }
  const unique = [...firstCopies.values()];

  await sql.begin(async (tx) => {
    const table = tx`${tx(target)}.citizen_refs`;

    const recorded = await tx<{ source: string; id: string }[]>`
      insert into edgebus.processed_events (consumer, source, id)
      select ${consumer}, x.source, x.id
      from jsonb_to_recordset(${JSON.stringify(unique.map(({ source, id }) => ({ source, id })))}::text::jsonb)
        as x(source text, id text)
      on conflict do nothing
      returning source, id`;
    const fresh = new Set(recorded.map(eventKey));
    for (const change of unique) if (!fresh.has(eventKey(change))) results.set(change.key, "duplicate");
    const pending = unique.filter((change) => fresh.has(eventKey(change)));

    // Snapshots and tombstones: newest per citizen wins inside the batch (later message on a tie).
    const newest = new Map<number, Exclude<CitizenChange, { kind: "verified" }>>();
    for (const change of pending) {
      if (change.kind === "verified") continue;
      const current = newest.get(change.citizenId);
      if (current !== undefined && current.version > change.version) results.set(change.key, "stale");
      else {
        if (current !== undefined) results.set(current.key, "stale");
        newest.set(change.citizenId, change);
      }
    }
    if (newest.size > 0) {
      const rows = [...newest.values()].map((change) => ({
        citizen_id: change.citizenId,
        version: change.version,
        event_id: change.id,
        event_source: change.source,
        ...(change.kind === "snapshot"
          ? { ...change.snapshot, deleted_at: null }
          : {
              name: null,
              email: null,
              phone: null,
              address: null,
              preferred_language: null,
              email_verified: false,
              identity_verified: false,
              deleted_at: change.deletedAt,
            }),
      }));
      const written = await tx<{ citizen_id: string }[]>`
        insert into ${table} as c (
          citizen_id, name, email, phone, address, preferred_language, email_verified, identity_verified,
          phone_verified, address_verified, event_version, last_event_id, last_event_source, deleted_at, last_synced_at
        )
        select x.citizen_id, x.name, x.email, x.phone, x.address, x.preferred_language, x.email_verified,
               x.identity_verified, false, false, x.version, x.event_id, x.event_source, x.deleted_at, now()
        from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as x(
          citizen_id bigint, name text, email text, phone text, address jsonb, preferred_language text,
          email_verified boolean, identity_verified boolean, version bigint, event_id text, event_source text,
          deleted_at timestamptz
        )
        on conflict (citizen_id) do update set
          name = excluded.name,
          email = excluded.email,
          phone = excluded.phone,
          address = excluded.address,
          preferred_language = excluded.preferred_language,
          email_verified = excluded.email_verified,
          identity_verified = excluded.identity_verified,
          -- a new snapshot carries no phone/address verification; keep it unless the contact changed
          phone_verified = c.phone_verified and c.phone is not distinct from excluded.phone and excluded.deleted_at is null,
          address_verified = c.address_verified and c.address is not distinct from excluded.address and excluded.deleted_at is null,
          event_version = excluded.event_version,
          last_event_id = excluded.last_event_id,
          last_event_source = excluded.last_event_source,
          deleted_at = excluded.deleted_at,
          last_synced_at = now()
        where c.event_version < excluded.event_version
        returning citizen_id`;
      const applied = new Set(written.map((row) => Number(row.citizen_id)));
      for (const change of newest.values())
        results.set(change.key, applied.has(change.citizenId) ? "applied" : "stale");
    }

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
                 bool_or(v.verification = 'email') as email,
                 bool_or(v.verification = 'identity') as identity,
                 bool_or(v.verification = 'phone') as phone,
                 bool_or(v.verification = 'address') as address,
                 max(v.version) as version,
                 (array_agg(v.id order by v.version desc))[1] as event_id,
                 (array_agg(v.source order by v.version desc))[1] as event_source
          from v join ${table} c on c.citizen_id = v.citizen_id
          where v.version > c.event_version and c.deleted_at is null
          group by v.citizen_id
        ),
        updated as (
          update ${table} c set
            email_verified = c.email_verified or m.email,
            identity_verified = c.identity_verified or m.identity,
            phone_verified = c.phone_verified or m.phone,
            address_verified = c.address_verified or m.address,
            event_version = m.version,
            last_event_id = m.event_id,
            last_event_source = m.event_source,
            last_synced_at = now()
          from merged m
          where c.citizen_id = m.citizen_id
          returning c.citizen_id
        )
        select v.source, v.id, c.citizen_id is not null as known,
               v.version > coalesce(c.event_version, 0) and c.deleted_at is null as newer
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
