/**
 * `edgebus.push_subscriptions` (migration 0014) as the producer writes it: the citizen app's
 * service registers and removes a citizen's Web Push subscriptions. The notifier reads the rows
 * and deletes the ones a push service says are gone (404/410).
 */
import type { Database } from "#shared/db/client.ts";

export interface PushSubscriptionInput {
  readonly citizenId: number;
  readonly endpoint: string;
  readonly p256dh: string;
  readonly auth: string;
  readonly expiresAt: Date | null;
  /** The API key that registered it. */
  readonly registeredBy: string;
}

export interface StoredPushSubscription {
  readonly citizen_id: number;
  readonly endpoint: string;
  readonly expires_at: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

/**
 * Inserts or replaces the subscription of `endpoint` (an endpoint is one browser's subscription:
 * registered again, possibly by another citizen signing in on that browser, it moves). `created`
 * is false when a row for the endpoint existed.
 */
export async function upsertPushSubscription(
  sql: Database,
  input: PushSubscriptionInput,
): Promise<{ created: boolean; subscription: StoredPushSubscription }> {
  const rows = await sql<(StoredPushSubscription & { inserted: boolean })[]>`
    insert into edgebus.push_subscriptions (endpoint, citizen_id, p256dh, auth, expires_at, registered_by)
    values (${input.endpoint}, ${input.citizenId}, ${input.p256dh}, ${input.auth}, ${input.expiresAt}, ${input.registeredBy})
    on conflict (endpoint) do update set
      citizen_id = excluded.citizen_id, p256dh = excluded.p256dh, auth = excluded.auth,
      expires_at = excluded.expires_at, registered_by = excluded.registered_by, updated_at = now()
    returning citizen_id, endpoint, expires_at, created_at, updated_at, (xmax = 0) as inserted`;
  const row = rows[0];
  if (!row) throw new Error("upsert returned no row");
  const { inserted, ...subscription } = row;
  return { created: inserted, subscription: normalise(subscription) };
}

/** Deletes the citizen's subscription of `endpoint`; false when there was none. */
export async function deletePushSubscription(sql: Database, citizenId: number, endpoint: string): Promise<boolean> {
  const rows = await sql`
    delete from edgebus.push_subscriptions where citizen_id = ${citizenId} and endpoint = ${endpoint}
    returning endpoint`;
  return rows.length > 0;
}

function normalise(row: StoredPushSubscription): StoredPushSubscription {
  const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value));
  return {
    citizen_id: Number(row.citizen_id),
    endpoint: row.endpoint,
    expires_at: row.expires_at === null ? null : iso(row.expires_at),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}
