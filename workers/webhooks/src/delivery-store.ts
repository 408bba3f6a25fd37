/**
 * The dispatcher's side of the outbox (migration 0013): read a subscription and the head of its
 * pending deliveries, record each attempt and its outcome, disable a subscription, and the cron's
 * sweep and retention. The producer writes the rows (`workers/producer/src/subscriptions/`).
 */
import type { Database } from "#shared/db/client.ts";

export interface DispatchSubscription {
  id: string;
  url: string;
  status: "active" | "paused" | "disabled";
  /** Valid signing secrets, newest first. */
  secrets: string[];
  perSecond: number | null;
  failingSince: Date | null;
}

export interface PendingDelivery {
  seq: number;
  messageId: string;
  body: string;
  attempts: number;
  nextAttemptAt: Date;
  createdAt: Date;
}

export async function loadSubscription(sql: Database, id: string): Promise<DispatchSubscription | undefined> {
  const [row] = await sql<
    {
      id: string;
      url: string;
      status: DispatchSubscription["status"];
      secrets_text: string;
      rate_limit_text: string | null;
      failing_since: Date | null;
    }[]
  >`
    select id, url, status, secrets::text as secrets_text, rate_limit::text as rate_limit_text, failing_since
    from edgebus.webhook_subscriptions where id = ${id}`;
  if (row === undefined) return undefined;
  const now = Date.now();
  const secrets = (JSON.parse(row.secrets_text) as { secret: string; expires_at: string | null }[])
    .filter((entry) => entry.expires_at === null || Date.parse(entry.expires_at) > now)
    .map((entry) => entry.secret);
  const rateLimit = row.rate_limit_text === null ? null : (JSON.parse(row.rate_limit_text) as { per_second: number });
  return {
    id: row.id,
    url: row.url,
    status: row.status,
    secrets,
    perSecond: rateLimit?.per_second ?? null,
    failingSince: row.failing_since,
  };
}

/** The oldest pending delivery (the head: later ones wait for it, so order holds). */
export async function headDelivery(sql: Database, subscriptionId: string): Promise<PendingDelivery | undefined> {
  const [row] = await sql<
    { seq: string; message_id: string; body: string; attempts: number; next_attempt_at: Date; created_at: Date }[]
  >`
    select seq, message_id, body, attempts, next_attempt_at, created_at from edgebus.webhook_deliveries
    where subscription_id = ${subscriptionId} and status = 'pending' order by seq limit 1`;
  return row === undefined
    ? undefined
    : {
        seq: Number(row.seq),
        messageId: row.message_id,
        body: row.body,
        attempts: row.attempts,
        nextAttemptAt: row.next_attempt_at,
        createdAt: row.created_at,
      };
}

export type AttemptOutcome = "delivered" | "retry" | "failed" | "gone" | "refused";

export interface AttemptRecord {
  statusCode: number | null;
  latencyMs: number;
  outcome: AttemptOutcome;
  snippet: string | null;
  error: string | null;
  /** For `retry`: when to try again. */
  nextAttemptAt?: Date;
}

/**
 * Records one attempt and moves the delivery on, in one transaction: delivered/failed end it,
 * retry reschedules it, gone/refused leave it pending (the subscription is disabled; resume sends
 * it again). The subscription's failure run starts at the first failure and ends at a success.
 */
export async function recordAttempt(
  sql: Database,
  subscriptionId: string,
  delivery: PendingDelivery,
  attempt: AttemptRecord,
): Promise<{ failingSince: Date | null }> {
  return sql.begin(async (tx) => {
    const t = tx as unknown as Database;
    await t`
      insert into edgebus.webhook_attempts (delivery_seq, status_code, latency_ms, outcome, response_snippet, error)
      values (${delivery.seq}::bigint, ${attempt.statusCode}, ${attempt.latencyMs}, ${attempt.outcome},
        ${attempt.snippet}, ${attempt.error})`;
    const status = attempt.outcome === "delivered" ? "delivered" : attempt.outcome === "failed" ? "failed" : "pending";
    await t`
      update edgebus.webhook_deliveries set
        status = ${status},
        attempts = attempts + 1,
        last_status = ${attempt.statusCode},
        last_error = ${attempt.error},
        next_attempt_at = ${(attempt.nextAttemptAt ?? new Date()).toISOString()}::timestamptz,
        finished_at = case when ${status} = 'pending' then null else now() end
      where seq = ${delivery.seq}::bigint`;
    const [row] = await t<{ failing_since: Date | null }[]>`
      update edgebus.webhook_subscriptions set
        failing_since = case when ${attempt.outcome === "delivered"} then null else coalesce(failing_since, now()) end
      where id = ${subscriptionId}
      returning failing_since`;
    return { failingSince: row?.failing_since ?? null };
  });
}

/** Disables a subscription (410 Gone, a refused target, failing too long); held rows stay pending. */
export async function disableSubscription(sql: Database, id: string, reason: string): Promise<void> {
  await sql`
    update edgebus.webhook_subscriptions set status = 'disabled', disabled_reason = ${reason}, disabled_at = now(),
      updated_at = now()
    where id = ${id} and status <> 'disabled'`;
}

/** Active subscriptions with a delivery due now: the cron wakes their dispatchers (a lost wake-up costs a minute at most). */
export async function dueSubscriptions(sql: Database, limit: number): Promise<string[]> {
  const rows = await sql<{ subscription_id: string }[]>`
    select distinct d.subscription_id from edgebus.webhook_deliveries d
    join edgebus.webhook_subscriptions s on s.id = d.subscription_id and s.status = 'active'
    where d.status = 'pending' and d.next_attempt_at <= now()
    limit ${limit}::int`;
  return rows.map((row) => row.subscription_id);
}

/** Deletes finished deliveries (and their attempts) older than `days`, in chunks; returns how many. */
export async function pruneHistory(sql: Database, days: number, chunk = 5000, maxChunks = 20): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxChunks; i++) {
    const rows = await sql`
      delete from edgebus.webhook_deliveries where seq in (
        select seq from edgebus.webhook_deliveries
        where status in ('delivered', 'failed') and created_at < now() - make_interval(days => ${days}::int)
        limit ${chunk}::int)
      returning seq`;
    total += rows.length;
    if (rows.length < chunk) break;
  }
  return total;
}
