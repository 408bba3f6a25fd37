/**
 * Checks the read models and ledgers against what the client had acknowledged: each acknowledged
 * event was applied by every consumer it was routed to, or sits in `edgebus.dead_letters` for
 * that consumer's queue.
 *
 * - citizen-sync (permits, revenue): each citizen's `citizen_refs` row shows the newest
 *   acknowledged version (a tombstone when that was `deleted`), or that newest event is
 *   dead-lettered for the queue;
 * - archive: every acknowledged event is in `event_archive` or dead-lettered for `archive`;
 * - notifier: every acknowledged email-worthy event has its email in `edgebus.notifications` as
 *   `sent`, or is dead-lettered for `notifications`.
 */
import postgres from "postgres";
import { eventRef } from "./kafka-audit.ts";
import type { PlannedEvent } from "./workload.ts";

export interface ConsumerAudit {
  expected: number;
  applied: number;
  deadLettered: number;
  /** Neither applied nor dead-lettered (yet): a loss once the system is quiet. */
  missing: string[];
}

export interface DatabaseAudit {
  permits: ConsumerAudit;
  revenue: ConsumerAudit;
  archive: ConsumerAudit;
  notifications: ConsumerAudit;
  deadLettersByQueue: Record<string, number>;
  /** `<queue> <source> <id>` of every dead letter. */
  deadLetters: Set<string>;
  /** Rows in `edgebus.notifications` by channel and status. */
  notificationRows: Record<string, number>;
  /** `sent` ledger rows that share an event, channel and recipient (double sends in the ledger). */
  ledgerDuplicates: number;
}

const empty = (): ConsumerAudit => ({ expected: 0, applied: 0, deadLettered: 0, missing: [] });

export async function auditDatabase(
  databaseUrl: string,
  acknowledged: readonly PlannedEvent[],
): Promise<DatabaseAudit> {
  // The newest acknowledged event per citizen is what both read models must show.
  const newestByCitizen = new Map<number, PlannedEvent>();
  for (const planned of acknowledged) {
    if (planned.kind !== "citizen") continue;
    const citizenId = Number(planned.key);
    const current = newestByCitizen.get(citizenId);
    if (!current || Number(current.event.eventversion) < Number(planned.event.eventversion)) {
      newestByCitizen.set(citizenId, planned);
    }
  }
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {}, connect_timeout: 10 });
  try {
    const deadLetters = await sql<{ queue: string; event_source: string; event_id: string }[]>`
      select queue, event_source, event_id from edgebus.dead_letters`;
    const dead = new Set(deadLetters.map((d) => `${d.queue} ${eventRef(d.event_source, d.event_id)}`));
    const deadLettersByQueue: Record<string, number> = {};
    for (const d of deadLetters) deadLettersByQueue[d.queue] = (deadLettersByQueue[d.queue] ?? 0) + 1;
    const isDead = (queue: string, event: PlannedEvent) =>
      dead.has(`${queue} ${eventRef(event.event.source, event.event.id)}`);

    const citizenAudit = async (target: "permits" | "revenue"): Promise<ConsumerAudit> => {
      const audit = empty();
      const rows = await sql<
        {
          citizen_id: string;
          snapshot_version: string | null;
          event_version: string;
          deleted_at: Date | null;
          name: string | null;
        }[]
      >`
        select citizen_id, snapshot_version, event_version, deleted_at, name from ${sql(target)}.citizen_refs`;
      const byId = new Map(rows.map((row) => [Number(row.citizen_id), row]));
      for (const [citizenId, planned] of newestByCitizen) {
        audit.expected++;
        const row = byId.get(citizenId);
        const version = Number(row?.snapshot_version ?? row?.event_version ?? 0);
        const wantDeleted = planned.event.type === "gov.auth.citizen.deleted";
        const data = planned.event.data as { name?: string };
        const matches =
          row !== undefined &&
          version === planned.event.eventversion &&
          (wantDeleted ? row.deleted_at !== null : row.deleted_at === null && row.name === data.name);
        if (matches) audit.applied++;
        else if (isDead(`${target}-citizen-sync`, planned)) audit.deadLettered++;
        else
          audit.missing.push(
            `citizen ${citizenId}: want v${planned.event.eventversion}${wantDeleted ? " (deleted)" : ""}, row ${row ? `v${version}${row.deleted_at ? " deleted" : ""}` : "absent"}`,
          );
      }
      return audit;
    };

    const archived = new Set(
      (await sql<{ source: string; id: string }[]>`select source, id from edgebus.event_archive`).map((r) =>
        eventRef(r.source, r.id),
      ),
    );
    const archive = empty();
    for (const planned of acknowledged) {
      archive.expected++;
      if (archived.has(eventRef(planned.event.source, planned.event.id))) archive.applied++;
      else if (isDead("archive", planned)) archive.deadLettered++;
      else archive.missing.push(eventRef(planned.event.source, planned.event.id));
    }

    const ledger = await sql<
      { event_source: string; event_id: string; channel: string; status: string; recipient: string }[]
    >`
      select event_source, event_id, channel, status, recipient from edgebus.notifications`;
    const notificationRows: Record<string, number> = {};
    const emailed = new Set<string>();
    const sentPerRecipient = new Map<string, number>();
    for (const row of ledger) {
      const label = `${row.channel}:${row.status}`;
      notificationRows[label] = (notificationRows[label] ?? 0) + 1;
      if (row.channel === "email" && row.status === "sent") emailed.add(eventRef(row.event_source, row.event_id));
      if (row.status === "sent") {
        const key = `${row.event_source} ${row.event_id} ${row.channel} ${row.recipient}`;
        sentPerRecipient.set(key, (sentPerRecipient.get(key) ?? 0) + 1);
      }
    }
    const notifications = empty();
    for (const planned of acknowledged) {
      if (!planned.notifiesByEmail) continue;
      notifications.expected++;
      const ref = eventRef(planned.event.source, planned.event.id);
      if (emailed.has(ref)) notifications.applied++;
      else if (isDead("notifications", planned)) notifications.deadLettered++;
      else notifications.missing.push(ref);
    }

    return {
      permits: await citizenAudit("permits"),
      revenue: await citizenAudit("revenue"),
      archive,
      notifications,
      deadLettersByQueue,
      deadLetters: dead,
      notificationRows,
      ledgerDuplicates: [...sentPerRecipient.values()].filter((n) => n > 1).length,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Nothing missing anywhere: every acknowledged event applied or dead-lettered. */
export function databaseSettled(audit: DatabaseAudit): boolean {
  return [audit.permits, audit.revenue, audit.archive, audit.notifications].every((a) => a.missing.length === 0);
}
