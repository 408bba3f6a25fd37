/**
 * The webhook subscriptions an event would be delivered to, for `npm run routes -- explain`:
 * read from `edgebus.webhook_subscriptions` (the database of `DATABASE_URL` or
 * `--database-url`) and matched with the producer's own pattern matcher, one line each with the
 * reason when it does not match. Paused subscriptions get the delivery and hold it; disabled ones
 * get nothing (docs/webhooks.md).
 */
import postgres from "postgres";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { type EventPattern, matchesPattern } from "#shared/routing/event-pattern.ts";

interface Row {
  id: string;
  url: string;
  status: "active" | "paused" | "disabled";
  filter_text: string;
  fields_text: string | null;
}

/** Printable lines; `mismatch` says which field of a pattern did not match. */
export async function subscriptionLines(
  event: CloudEventRecord,
  databaseUrl: string | undefined,
  mismatch: (pattern: EventPattern, event: unknown) => string,
): Promise<string[]> {
  if (databaseUrl === undefined || databaseUrl === "") {
    return ["webhook subscriptions: not checked (set DATABASE_URL or pass --database-url)"];
  }
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  let rows: Row[];
  try {
    rows = await sql<Row[]>`
      select id, url, status, filter::text as filter_text, fields::text as fields_text
      from edgebus.webhook_subscriptions order by id`;
  } catch (error) {
    return [`webhook subscriptions: could not be read (${error instanceof Error ? error.message : String(error)})`];
  } finally {
    await sql.end({ timeout: 5 });
  }
  const lines = [`webhook subscriptions (${rows.length}):`];
  for (const row of rows) {
    const filter = JSON.parse(row.filter_text) as EventPattern;
    const matched = matchesPattern(filter, event);
    const state = row.status === "active" ? "" : row.status === "paused" ? " (paused: held)" : " (disabled: not sent)";
    lines.push(`  ${matched && row.status !== "disabled" ? "✓" : "✗"} ${row.id}${state} → ${row.url}`);
    if (!matched) lines.push(`      not matched: ${mismatch(filter, event)}`);
    else if (row.fields_text !== null) {
      lines.push(`      fields: ${(JSON.parse(row.fields_text) as string[]).join(", ")} (and the event's identity)`);
    }
  }
  return lines;
}
