/**
 * `edgebus.dead_letters`: one row per (queue, event source, event id). Recording is idempotent:
 * the same dead letter delivered twice changes nothing; a later failure of the same event (after
 * a replay, say) counts one more failure, adds its attempts, takes the newest error and puts the
 * row back to `pending`.
 *
 * One statement for the whole batch: it fails as a whole when Postgres refuses any one row; the
 * caller then records the letters one by one (`handleDeadLetterBatch`).
 */
import type { Database } from "#shared/db/client.ts";

export interface DeadLetterRecord {
  readonly queue: string;
  readonly consumer: string;
  readonly eventSource: string;
  readonly eventId: string;
  readonly eventType: string | null;
  readonly messageId: string | null;
  /** The original message body. */
  readonly event: unknown;
  readonly errorCode: string | null;
  readonly errorType: string | null;
  readonly errorMessage: string | null;
  readonly errorDetails: unknown;
  readonly failureReason: "permanent" | "exhausted" | "platform";
  readonly attempts: number;
  /** ISO timestamp of this failure. */
  readonly failedAt: string;
  /**
   * Set when the body cannot be stored as jsonb as it is (see `storable-letter.ts`): the exact
   * body as JSON text; `event` is then a cleaned, readable copy.
   */
  readonly eventText?: string;
  /** Why and how the letter was stored encoded. */
  readonly storageNote?: string;
}

const keyOf = (r: DeadLetterRecord) => `${r.queue}\u0000${r.eventSource}\u0000${r.eventId}`;

export async function recordDeadLetters(sql: Database, records: readonly DeadLetterRecord[]): Promise<void> {
  if (records.length === 0) return;
  // One statement cannot update a row twice: keep the latest failure per key.
  const latest = new Map<string, DeadLetterRecord>();
  for (const record of records) {
    const current = latest.get(keyOf(record));
    if (current === undefined || current.failedAt <= record.failedAt) latest.set(keyOf(record), record);
  }
  const rows = [...latest.values()].map((r) => ({
    queue: r.queue,
    consumer: r.consumer,
    event_source: r.eventSource,
    event_id: r.eventId,
    event_type: r.eventType,
    message_id: r.messageId,
    event: r.event === undefined ? null : r.event,
    error_code: r.errorCode,
    error_type: r.errorType,
    error_message: r.errorMessage,
    error_details: r.errorDetails === undefined ? null : r.errorDetails,
    failure_reason: r.failureReason,
    attempts: r.attempts,
    failed_at: r.failedAt,
    event_encoding: r.eventText === undefined ? "jsonb" : "json_text",
    event_text: r.eventText ?? null,
    storage_note: r.storageNote ?? null,
  }));
  await sql`
    insert into edgebus.dead_letters as d (
      queue, consumer, event_source, event_id, event_type, message_id, event, error_code, error_type,
      error_message, error_details, failure_reason, attempts, first_failed_at, last_failed_at, event_encoding,
      event_text, storage_note
    )
    select x.queue, x.consumer, x.event_source, x.event_id, x.event_type, x.message_id, coalesce(x.event, 'null'::jsonb),
           x.error_code, x.error_type, x.error_message, x.error_details, x.failure_reason, x.attempts,
           x.failed_at, x.failed_at, x.event_encoding, x.event_text, x.storage_note
    from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as x(
      queue text, consumer text, event_source text, event_id text, event_type text, message_id text, event jsonb,
      error_code text, error_type text, error_message text, error_details jsonb, failure_reason text,
      attempts integer, failed_at timestamptz, event_encoding text, event_text text, storage_note text
    )
    on conflict (queue, event_source, event_id) do update set
      consumer = excluded.consumer,
      event_type = coalesce(excluded.event_type, d.event_type),
      message_id = excluded.message_id,
      event = excluded.event,
      event_encoding = excluded.event_encoding,
      event_text = excluded.event_text,
      storage_note = excluded.storage_note,
      error_code = excluded.error_code,
      error_type = excluded.error_type,
      error_message = excluded.error_message,
      error_details = excluded.error_details,
      failure_reason = excluded.failure_reason,
      attempts = d.attempts + excluded.attempts,
      failure_count = d.failure_count + 1,
      first_failed_at = least(d.first_failed_at, excluded.first_failed_at),
      last_failed_at = excluded.last_failed_at,
      status = 'pending',
      updated_at = now()
    -- A redelivered dead letter (same failure time) is not a new failure.
    where excluded.last_failed_at > d.last_failed_at`;
}
