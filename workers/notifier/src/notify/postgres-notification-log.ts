import { type Database, databaseError } from "#shared/db/client.ts";
import { type NotificationLog, type Reservation, SEND_LEASE_SECONDS, type SendRecord } from "./notification-log.ts";

async function guarded<T>(action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (thrown) {
    throw databaseError(thrown, action);
  }
}

/** `NotificationLog` on `edgebus.notifications` (migrations 0004 and 0007). */
export class PostgresNotificationLog implements NotificationLog {
  readonly #sql: Database;
  readonly #leaseSeconds: number;

  constructor(sql: Database, { leaseSeconds = SEND_LEASE_SECONDS } = {}) {
    this.#sql = sql;
    this.#leaseSeconds = leaseSeconds;
  }

  reserve(record: SendRecord): Promise<Reservation> {
    const sql = this.#sql;
    return guarded("reserving the notification send", async () => {
      // One statement: the unique idempotency key serialises concurrent deliveries.
      const claimed = await sql<{ attempts: number }[]>`
        insert into edgebus.notifications
          (event_source, event_id, event_type, channel, recipient, template, idempotency_key, provider, locale,
           status, attempts, updated_at)
        values
          (${record.eventSource}, ${record.eventId}, ${record.eventType}, ${record.channel}, ${record.recipient},
           ${record.template}, ${record.idempotencyKey}, ${record.provider}, ${record.locale}, 'sending', 1, now())
        on conflict (idempotency_key) do update
          set status = 'sending', attempts = edgebus.notifications.attempts + 1, updated_at = now()
          where edgebus.notifications.status in ('pending', 'failed')
             or (edgebus.notifications.status = 'sending'
                 and edgebus.notifications.updated_at < now() - make_interval(secs => ${this.#leaseSeconds}))
        returning attempts`;
      const row = claimed[0];
      if (row) return { state: "send", attempt: row.attempts };
      const [existing] = await sql<{ status: string }[]>`
        select status from edgebus.notifications where idempotency_key = ${record.idempotencyKey}`;
      return { state: existing?.status === "sending" ? "busy" : "done" };
    });
  }

  markSent(idempotencyKey: string, providerMessageId: string): Promise<void> {
    const sql = this.#sql;
    return guarded("marking the notification sent", async () => {
      await sql`
        update edgebus.notifications
        set status = 'sent', provider_message_id = ${providerMessageId}, last_error = null,
            sent_at = now(), updated_at = now()
        where idempotency_key = ${idempotencyKey}`;
    });
  }

  markFailed(idempotencyKey: string, error: { code: string; message: string }): Promise<void> {
    const sql = this.#sql;
    return guarded("marking the notification failed", async () => {
      await sql`
        update edgebus.notifications
        set status = 'failed', last_error = ${`${error.code}: ${error.message}`}, updated_at = now()
        where idempotency_key = ${idempotencyKey} and status = 'sending'`;
    });
  }

  recordSkipped(record: SendRecord, reason: string): Promise<void> {
    const sql = this.#sql;
    return guarded("recording a skipped notification", async () => {
      await sql`
        insert into edgebus.notifications
          (event_source, event_id, event_type, channel, recipient, template, idempotency_key, provider, locale,
           status, skip_reason)
        values
          (${record.eventSource}, ${record.eventId}, ${record.eventType}, ${record.channel}, ${record.recipient},
           ${record.template}, ${record.idempotencyKey}, ${record.provider}, ${record.locale}, 'skipped', ${reason})
        on conflict (idempotency_key) do nothing`;
    });
  }
}
