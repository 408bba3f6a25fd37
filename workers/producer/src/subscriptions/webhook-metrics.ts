/**
 * Webhook subscription gauges for `GET /v1/metrics/consumers` (docs/webhooks.md#metrics), read
 * from Postgres on each scrape: subscriptions by status and, for disabled ones, the class of the
 * reason (`gone`, `failing`, `target_refused`), and the outbox backlog. The deliveries themselves
 * are counted with the consumers (consumer `webhooks`).
 */
import type { Database } from "#shared/db/client.ts";

const REASONS = ["gone", "failing", "target_refused"] as const;

interface StatusRow {
  status: string;
  reason: string;
  count: string;
}

interface BacklogRow {
  pending: string;
  oldest_seconds: number | null;
  failing: string;
}

/** Prometheus text (ends with a newline). */
export async function webhookMetricsText(sql: Database): Promise<string> {
  const statuses = await sql<StatusRow[]>`
    select status, coalesce(split_part(disabled_reason, ':', 1), 'none') as reason, count(*) as count
    from edgebus.webhook_subscriptions group by 1, 2 order by 1, 2`;
  const [backlog] = await sql<BacklogRow[]>`
    select
      (select count(*) from edgebus.webhook_deliveries where status = 'pending') as pending,
      (select extract(epoch from now() - min(created_at))::float8 from edgebus.webhook_deliveries where status = 'pending') as oldest_seconds,
      (select count(*) from edgebus.webhook_subscriptions where failing_since is not null and status = 'active') as failing`;
  const counts = new Map<string, number>();
  for (const status of ["active", "paused"]) counts.set(`${status}|none`, 0);
  for (const reason of REASONS) counts.set(`disabled|${reason}`, 0);
  for (const row of statuses) {
    const reason =
      row.status !== "disabled" ? "none" : (REASONS as readonly string[]).includes(row.reason) ? row.reason : "other";
    const key = `${row.status}|${reason}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(row.count));
  }
  const lines = [
    "# HELP edgebus_webhook_subscriptions Webhook subscriptions by status; disabled ones by reason (gone, failing, target_refused)",
    "# TYPE edgebus_webhook_subscriptions gauge",
    ...[...counts].map(([key, count]) => {
      const [status, reason] = key.split("|");
      return `edgebus_webhook_subscriptions{status="${status}",reason="${reason}"} ${count}`;
    }),
    "# HELP edgebus_webhook_subscriptions_failing Active subscriptions whose latest attempts failed (failing_since set)",
    "# TYPE edgebus_webhook_subscriptions_failing gauge",
    `edgebus_webhook_subscriptions_failing ${Number(backlog?.failing ?? 0)}`,
    "# HELP edgebus_webhook_deliveries_pending Deliveries waiting in the outbox (held by paused subscriptions included)",
    "# TYPE edgebus_webhook_deliveries_pending gauge",
    `edgebus_webhook_deliveries_pending ${Number(backlog?.pending ?? 0)}`,
    "# HELP edgebus_webhook_oldest_pending_age_seconds Age of the oldest pending delivery; 0 when none waits",
    "# TYPE edgebus_webhook_oldest_pending_age_seconds gauge",
    `edgebus_webhook_oldest_pending_age_seconds ${Math.max(0, Math.round(backlog?.oldest_seconds ?? 0))}`,
  ];
  return `${lines.join("\n")}\n`;
}
