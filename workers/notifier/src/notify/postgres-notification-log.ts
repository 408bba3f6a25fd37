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
 * When a group goes: once `size` calls wait, or `waitMs` after the first of them, or as soon as
 * `nothingElseComing` says so. The default (`waitMs` 0) is plain group commit: calls made while a
 * statement is in flight (and those of the same turn of the event loop) go together in the next
 * statement.
 */
export interface GroupWindow {
  readonly size: number;
  readonly waitMs: number;
}

/**
 * Group commit: concurrent calls wait and go together in one statement, so N concurrent sends
 * cost one round trip per wave instead of N. A failed statement rejects every call of its group
 * (each caller retries or fails as it would have alone).
 */
class Grouped<In, Out> {
  readonly #run: (inputs: readonly In[]) => Promise<readonly Out[]>;
  readonly #window: GroupWindow;
  #waiting: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  readonly #nothingElseComing: () => boolean;

  constructor(
    run: (inputs: readonly In[]) => Promise<readonly Out[]>,
    window: GroupWindow = { size: 0, waitMs: 0 },
    nothingElseComing: () => boolean = () => false,
  ) {
    this.#run = run;
    this.#window = window;
    this.#nothingElseComing = nothingElseComing;
  }

  /** Something `nothingElseComing` depends on changed: the waiting calls may go now. */
  recheck(): void {
    if (!this.#running && this.#waiting.length > 0) this.#schedule();
  }

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#waiting.push({ input, resolve, reject });
      if (!this.#running) this.#schedule();
    });
  }

  #schedule(): void {
    const { size, waitMs } = this.#window;
    if (waitMs > 0 && (this.#waiting.length >= size || this.#nothingElseComing())) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#flush();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        void this.#flush();
      }, waitMs);
    }
  }

  async #flush(): Promise<void> {
    this.#running = true;
    while (this.#waiting.length > 0) {
      const group = this.#waiting;
      this.#waiting = [];
      try {
        const outs = await this.#run(group.map((waiting) => waiting.input));
        for (const [i, waiting] of group.entries()) waiting.resolve(outs[i] as Out);
      } catch (error) {
        for (const waiting of group) waiting.reject(error);
      }
      // A window: too few came meanwhile, give the others their time to join.
      if (this.#window.waitMs > 0 && this.#waiting.length < this.#window.size && !this.#nothingElseComing()) break;
    }
    this.#running = false;
    if (this.#waiting.length > 0) this.#schedule();
  }
}

export interface PostgresNotificationLogOptions {
  /** How long a `sending` reservation protects a send in progress; default `SEND_LEASE_SECONDS`. */
  readonly leaseSeconds?: number;
  /**
   * How old a reservation made by `reserveAhead` may be when `reserve` hands it out; an older one
   * is renewed first (every key still held, in one statement). The caller chooses it so that a
   * key handed out at this age still has its wait for a provider slot, its provider call and its
   * sent mark inside the lease, so no other delivery can take it over as a stopped attempt
   * meanwhile. Default a quarter of the lease.
   */
  readonly holdSeconds?: number;
  /**
   * When the sent marks of sends that finished at about the same time go in one statement: by
   * default as soon as the previous one is done (group commit). A window (`size` marks, or
   * `waitMs` after the first) groups more of them when sends finish one by one; the caller's
   * send is settled (and its message acked) that much later.
   */
  readonly sentMarks?: GroupWindow;
}

/** `NotificationLog` on `edgebus.notifications` (migrations 0004, 0007 and 0011). */
export class PostgresNotificationLog implements NotificationLog {
  readonly #sql: Database;
  readonly #leaseSeconds: number;
  readonly #holdMs: number;

  /** First reservations of concurrent sends: one multi-row insert per wave; true = this caller holds the send. */
  readonly #firstReservations: Grouped<SendRecord, boolean>;
  /** Sent marks of concurrent sends: one update per wave. */
  readonly #sentMarks: Grouped<
    { readonly key: string; readonly providerMessageId: string; readonly reconciliation: Reconciliation | null },
    void
  >;
  /** Keys reserved by `reserveAhead` and not handed out yet → when their reservation was written (ms). */
  readonly #held = new Map<string, number>();
  /** Keys the ledger had before `reserveAhead` (redeliveries): their `reserve` goes straight to the row. */
  readonly #known = new Set<string>();
  /** Held keys handed out whose outcome (sent, failed, unknown, given up) is not recorded yet. */
  readonly #underway = new Set<string>();
  #renewal: Promise<void> | undefined;

  constructor(
    sql: Database,
    { leaseSeconds = SEND_LEASE_SECONDS, holdSeconds, sentMarks }: PostgresNotificationLogOptions = {},
  ) {
    this.#sql = sql;
    this.#leaseSeconds = leaseSeconds;
    this.#holdMs = (holdSeconds ?? leaseSeconds / 4) * 1000;
    this.#firstReservations = new Grouped(async (records) => {
      const fresh = await this.#insertReservations(records);
      // A key twice in one wave (the same event delivered twice in a batch): only the first holds it.
      return records.map((record) => fresh.delete(record.idempotencyKey));
    });
    this.#sentMarks = new Grouped(
      async (marks) => {
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
        // With a window, the last sends of a batch need not wait it out: no other send is under way.
      },
      sentMarks,
      () => this.#underway.size === 0,
    );
  }

  /** First-attempt reservations in one statement; the keys it inserted (those not in the ledger before). */
  async #insertReservations(records: readonly SendRecord[]): Promise<Set<string>> {
    const inserted = await this.#sql<{ idempotency_key: string }[]>`
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
    return new Set(inserted.map((row) => row.idempotency_key));
  }

  reserveAhead(records: readonly SendRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return guarded("reserving the batch's notification sends", async () => {
      // Taken before the statement: the age of a hold is never underestimated.
      const reservedAt = Date.now();
      const fresh = await this.#insertReservations(records);
      for (const { idempotencyKey: key } of records) {
        if (fresh.has(key)) this.#held.set(key, reservedAt);
        else if (!this.#held.has(key)) this.#known.add(key);
      }
    });
  }

  /** True when `key` was held for this caller (now handed out: the caller must send it). */
  async #takeHeld(key: string): Promise<boolean> {
    const reservedAt = this.#held.get(key);
    if (reservedAt === undefined) return false;
    if (Date.now() - reservedAt > this.#holdMs) await this.#renewHolds();
    if (!this.#held.delete(key)) return false;
    this.#underway.add(key);
    return true;
  }

  /** The outcome of `key`'s send is being recorded: one fewer send under way. */
  #settled(key: string): void {
    if (this.#underway.delete(key)) this.#sentMarks.recheck();
  }

  /**
   * Renews every held reservation (one statement, shared by concurrent callers). A row that is no
   * longer this log's untouched first attempt (`sending`, attempt 1) was taken over by another
   * delivery after its lease: it is not held any more, and its `reserve` decides on the row.
   */
  #renewHolds(): Promise<void> {
    this.#renewal ??= (async () => {
      const renewedAt = Date.now();
      const keys = [...this.#held.keys()];
      try {
        const rows = await this.#sql<{ idempotency_key: string }[]>`
          update edgebus.notifications set updated_at = now()
          where idempotency_key in (select jsonb_array_elements_text(${JSON.stringify(keys)}::text::jsonb))
            and status = 'sending' and attempts = 1
          returning idempotency_key`;
        const renewed = new Set(rows.map((row) => row.idempotency_key));
        for (const key of keys) {
          if (renewed.has(key)) this.#held.set(key, renewedAt);
          else if (this.#held.delete(key)) this.#known.add(key);
        }
      } finally {
        this.#renewal = undefined;
      }
    })();
    return this.#renewal;
  }

  releaseUnused(): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve();
    const keys = [...this.#held.keys()];
    this.#held.clear();
    return guarded("releasing unused notification reservations", async () => {
      // Only rows still exactly as reserved: nothing was sent for them, no other delivery touched them.
      await this.#sql`
        delete from edgebus.notifications
        where idempotency_key in (select jsonb_array_elements_text(${JSON.stringify(keys)}::text::jsonb))
          and status = 'sending' and attempts = 1`;
    });
  }

  reserve(record: SendRecord, { visibilitySeconds }: ReserveOptions): Promise<Reservation> {
    const sql = this.#sql;
    const lease = this.#leaseSeconds;
    return guarded("reserving the notification send", async () => {
      // Reserved with the rest of its batch before the batch's first send.
      if (await this.#takeHeld(record.idempotencyKey)) return { state: "send", attempt: 1 };
      // The first delivery (almost every send): one statement, shared with the sends reserved at
      // the same time; skipped for a key `reserveAhead` found in the ledger already.
      if (!this.#known.has(record.idempotencyKey) && (await this.#firstReservations.call(record))) {
        return { state: "send", attempt: 1 };
      }
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
    return guarded("marking the notification sent", () => {
      const marked = this.#sentMarks.call({
        key: idempotencyKey,
        providerMessageId,
        reconciliation: reconciliation ?? null,
      });
      // After joining the group: if this was the last send under way, the group goes now.
      this.#settled(idempotencyKey);
      return marked;
    });
  }

  markFailed(idempotencyKey: string, error: { code: string; message: string }): Promise<void> {
    const sql = this.#sql;
    this.#settled(idempotencyKey);
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
    this.#settled(idempotencyKey);
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
    this.#settled(idempotencyKey);
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
