import { type Database, databaseError } from "#shared/db/client.ts";
import {
  type NotificationLog,
  type Reconciliation,
  type Reservation,
  type ReserveOptions,
  SEND_LEASE_SECONDS,
  type SendRecord,
} from "./notification-log.ts";

async function guarded<T>(action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (thrown) {
    throw databaseError(thrown, action);
  }
}

const errorText = (error: { code: string; message: string }) => `${error.code}: ${error.message}`;

/**
 * Group commit: calls made while a statement is in flight (and those of the same turn of the event
 * loop) wait and go together in the next statement, so N concurrent sends cost one round trip per
 * wave instead of N. A failed statement rejects every call of its group (each caller retries or
 * fails as it would have alone).
 */
class Grouped<In, Out> {
  readonly #run: (inputs: readonly In[]) => Promise<readonly Out[]>;
  #waiting: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];
  #running = false;

  constructor(run: (inputs: readonly In[]) => Promise<readonly Out[]>) {
    this.#run = run;
  }

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#waiting.push({ input, resolve, reject });
      if (!this.#running) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#running = true;
    await new Promise((resolve) => setTimeout(resolve, 0));
    while (this.#waiting.length > 0) {
      const group = this.#waiting;
      this.#waiting = [];
      try {
        const outs = await this.#run(group.map((waiting) => waiting.input));
        for (const [i, waiting] of group.entries()) waiting.resolve(outs[i] as Out);
      } catch (error) {
        for (const waiting of group) waiting.reject(error);
      }
    }
    this.#running = false;
  }
}

/** `NotificationLog` on `edgebus.notifications` (migrations 0004, 0007 and 0011). */
export class PostgresNotificationLog implements NotificationLog {
  readonly #sql: Database;
  readonly #leaseSeconds: number;

  /** First reservations of concurrent sends: one multi-row insert per wave; true = this caller holds the send. */
  readonly #firstReservations: Grouped<SendRecord, boolean>;
  /** Sent marks of concurrent sends: one update per wave. */
  readonly #sentMarks: Grouped<
    { readonly key: string; readonly providerMessageId: string; readonly reconciliation: Reconciliation | null },
    void
  >;

  constructor(sql: Database, { leaseSeconds = SEND_LEASE_SECONDS } = {}) {
    this.#sql = sql;
    this.#leaseSeconds = leaseSeconds;
    this.#firstReservations = new Grouped(async (records) => {
      const inserted = await sql<{ idempotency_key: string }[]>`
        insert into edgebus.notifications
          (event_source, event_id, event_type, channel, recipient, template, idempotency_key, provider, locale,
           status, attempts, updated_at)
        select x.event_source, x.event_id, x.event_type, x.channel, x.recipient, x.template, x.idempotency_key,
               x.provider, x.locale, 'sending', 1, now()
        from jsonb_to_recordset(${JSON.stringify(records.map(reservationRow))}::text::jsonb) as x(
          event_source text, event_id text, event_type text, channel text, recipient text, template text,
          idempotency_key text, provider text, locale text)
        on conflict (idempotency_key) do nothing
        returning idempotency_key`;
      // A key twice in one wave (the same event delivered twice in a batch): only the first holds it.
      const fresh = new Set(inserted.map((row) => row.idempotency_key));
      return records.map((record) => fresh.delete(record.idempotencyKey));
    });
    this.#sentMarks = new Grouped(async (marks) => {
      await sql`
        update edgebus.notifications as n
        set status = 'sent', provider_message_id = x.provider_message_id, last_error = null,
            sent_at = now(), updated_at = now(), reconcile_after = null,
            reconciliation = coalesce(x.reconciliation, n.reconciliation)
        from jsonb_to_recordset(${JSON.stringify(
          marks.map((mark) => ({
            idempotency_key: mark.key,
            provider_message_id: mark.providerMessageId,
            reconciliation: mark.reconciliation,
          })),
        )}::text::jsonb) as x(idempotency_key text, provider_message_id text, reconciliation text)
        where n.idempotency_key = x.idempotency_key`;
      return marks.map((): void => undefined);
    });
  }

  reserve(record: SendRecord, { visibilitySeconds }: ReserveOptions): Promise<Reservation> {
    const sql = this.#sql;
    const lease = this.#leaseSeconds;
    return guarded("reserving the notification send", async () => {
      // The first delivery (almost every send): one statement, shared with the sends reserved at the same time.
      if (await this.#firstReservations.call(record)) return { state: "send", attempt: 1 };
      // A send seen before: decide on the locked row, so concurrent deliveries take turns.
      return sql.begin(async (tx): Promise<Reservation> => {
        const [row] = await tx<
          { status: string; age_seconds: number; reconcile_in_seconds: number | null; since_epoch: number }[]
        >`
          select status,
                 extract(epoch from now() - updated_at)::float8 as age_seconds,
                 extract(epoch from reconcile_after - now())::float8 as reconcile_in_seconds,
                 extract(epoch from coalesce(unknown_since, updated_at))::float8 as since_epoch
          from edgebus.notifications where idempotency_key = ${record.idempotencyKey}
          for update`;
        if (!row) return { state: "busy", retryAfterSeconds: 1 };
        let status = row.status;
        let reconcileIn = row.reconcile_in_seconds;
        if (status === "sending") {
          if (row.age_seconds < lease) {
            return { state: "busy", retryAfterSeconds: Math.max(1, Math.ceil(lease - row.age_seconds)) };
          }
          // The attempt stopped without recording what the provider said (a crash, a database
          // outage after the call): it may have been sent, so it is an unknown outcome.
          await tx`
            update edgebus.notifications
            set status = 'unknown', unknown_since = coalesce(unknown_since, updated_at),
                reconcile_after = updated_at + make_interval(secs => ${visibilitySeconds}),
                last_error = 'the attempt stopped without recording the outcome'
            where idempotency_key = ${record.idempotencyKey}`;
          status = "unknown";
          reconcileIn = visibilitySeconds - row.age_seconds;
        }
        if (status === "unknown") {
          if (reconcileIn === null) return { state: "done" }; // given up
          if (reconcileIn > 0) return { state: "wait", retryAfterSeconds: Math.max(1, Math.ceil(reconcileIn)) };
          const [claimed] = await tx<{ attempts: number }[]>`
            update edgebus.notifications
            set status = 'sending', attempts = attempts + 1, updated_at = now()
            where idempotency_key = ${record.idempotencyKey}
            returning attempts`;
          return { state: "reconcile", attempt: claimed?.attempts ?? 0, since: new Date(row.since_epoch * 1000) };
        }
        if (status === "pending" || status === "failed") {
          const [claimed] = await tx<{ attempts: number }[]>`
            update edgebus.notifications
            set status = 'sending', attempts = attempts + 1, updated_at = now()
            where idempotency_key = ${record.idempotencyKey}
            returning attempts`;
          return { state: "send", attempt: claimed?.attempts ?? 0 };
        }
        return { state: "done" }; // sent, delivered, skipped
      });
    });
  }

  markSent(idempotencyKey: string, providerMessageId: string, reconciliation?: Reconciliation): Promise<void> {
    return guarded("marking the notification sent", () =>
      this.#sentMarks.call({ key: idempotencyKey, providerMessageId, reconciliation: reconciliation ?? null }),
    );
  }

  markFailed(idempotencyKey: string, error: { code: string; message: string }): Promise<void> {
    const sql = this.#sql;
    return guarded("marking the notification failed", async () => {
      await sql`
        update edgebus.notifications
        set status = 'failed', last_error = ${errorText(error)}, updated_at = now()
        where idempotency_key = ${idempotencyKey} and status = 'sending'`;
    });
  }

  markUnknown(
    idempotencyKey: string,
    error: { code: string; message: string },
    { visibilitySeconds }: { readonly visibilitySeconds: number },
  ): Promise<void> {
    const sql = this.#sql;
    return guarded("marking the notification outcome unknown", async () => {
      await sql`
        update edgebus.notifications
        set status = 'unknown', unknown_since = now(),
            reconcile_after = now() + make_interval(secs => ${visibilitySeconds}),
            last_error = ${errorText(error)}, updated_at = now()
        where idempotency_key = ${idempotencyKey} and status = 'sending'`;
    });
  }

  markGivenUp(idempotencyKey: string): Promise<void> {
    const sql = this.#sql;
    return guarded("marking the notification given up", async () => {
      await sql`
        update edgebus.notifications
        set status = 'unknown', unknown_since = coalesce(unknown_since, now()), reconcile_after = null,
            reconciliation = 'given_up', updated_at = now()
        where idempotency_key = ${idempotencyKey} and status in ('sending', 'unknown')`;
    });
  }

  releaseUnknown(idempotencyKey: string, error: { code: string; message: string }): Promise<void> {
    const sql = this.#sql;
    return guarded("releasing the notification for a later check", async () => {
      await sql`
        update edgebus.notifications
        set status = 'unknown', reconcile_after = now(), last_error = ${errorText(error)}, updated_at = now()
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

function reservationRow(record: SendRecord) {
  return {
    event_source: record.eventSource,
    event_id: record.eventId,
    event_type: record.eventType,
    channel: record.channel,
    recipient: record.recipient,
    template: record.template,
    idempotency_key: record.idempotencyKey,
    provider: record.provider,
    locale: record.locale,
  };
}
