/**
 * archive Worker: every event from the `archive` queue, once, into `edgebus.event_archive`
 * (one insert per batch, duplicates skipped by unique (source, id)); a daily cron prunes rows
 * older than the retention in bounded chunks.
 */
import { settleBatch } from "#shared/consumers/consume-batch.ts";
import type { QueueBatch } from "#shared/consumers/consumer-message.ts";
import { queueDeadLetterSink } from "#shared/consumers/dead-letter-message.ts";
import { describeZodIssues, holdMisconfiguredBatch } from "#shared/consumers/hold-misconfigured-batch.ts";
import { consumed, deadLetter, type Outcome, poison, retryLater } from "#shared/consumers/outcome.ts";
import { withReadableBodies } from "#shared/consumers/readable-bodies.ts";
import { databaseError, openDatabase } from "#shared/db/client.ts";
import { postgresConsumerMetrics } from "#shared/db/consumer-metrics-store.ts";
import { type CloudEventRecord, eventKey } from "#shared/envelope/cloud-event.ts";
import { parseQueuedEvent } from "#shared/envelope/queue-message.ts";
import { createLogger } from "#shared/log.ts";
import { archiveEnvSchema } from "./config.ts";
import { pruneConsumerMetrics } from "./consumer-metrics-retention.ts";
import { archiveEvents, archiveNewEvents, pruneArchive } from "./event-archive-store.ts";
import { pruneProcessedEvents } from "./processed-events.ts";

const CONSUMER = "archive";

export async function handleArchiveBatch(delivered: QueueBatch, rawEnv: unknown): Promise<void> {
  const batch = withReadableBodies(delivered);
  const receivedAt = Date.now();
  const logger = createLogger({ queue: batch.queue, consumer: CONSUMER });
  const parsed = archiveEnvSchema.safeParse(rawEnv);
  if (!parsed.success) {
    await holdMisconfiguredBatch(batch, { consumer: CONSUMER, logger, problem: describeZodIssues(parsed.error) });
    return;
  }
  const env = parsed.data;
  const outcomes = new Map<string, Outcome>();
  const archivable: { messageId: string; event: CloudEventRecord }[] = [];
  for (const message of batch.messages) {
    const decoded = parseQueuedEvent(message.body);
    if (decoded.ok) archivable.push({ messageId: message.id, event: decoded.event });
    else outcomes.set(message.id, poison(decoded.reason));
  }
  const sql = openDatabase(env.HYPERDRIVE.connectionString);
  try {
    const inserted = await archiveNewEvents(
      sql,
      archivable.map((a) => a.event),
    );
    // An event archived before (a redelivery, a replay) or twice in this batch is a duplicate:
    // only the first copy of a newly inserted event counts as applied.
    const firstCopies = new Set<string>();
    for (const { messageId, event } of archivable) {
      const key = eventKey(event);
      const applied = inserted.has(key) && !firstCopies.has(key);
      firstCopies.add(key);
      outcomes.set(messageId, consumed(applied ? "applied" : "duplicate"));
    }
    logger.log("info", "events archived", { count: inserted.size, note: `received=${archivable.length}` });
  } catch (thrown) {
    const error = databaseError(thrown, "writing edgebus.event_archive");
    if (error.retryable) for (const { messageId } of archivable) outcomes.set(messageId, retryLater(error));
    else {
      // One event Postgres refuses (say, a time outside timestamptz range) must not hold back
      // the others: archive one by one to isolate it.
      for (const { messageId, event } of archivable) {
        try {
          const added = await archiveEvents(sql, [event]);
          outcomes.set(messageId, consumed(added === 1 ? "applied" : "duplicate"));
        } catch (single) {
          const singleError = databaseError(single, "writing edgebus.event_archive");
          outcomes.set(messageId, singleError.retryable ? retryLater(singleError) : deadLetter(singleError));
        }
      }
    }
  }
  await settleBatch(batch, outcomes, {
    queue: batch.queue,
    consumer: CONSUMER,
    retry: { maxRetries: env.MAX_RETRIES },
    deadLetters: queueDeadLetterSink(env.DEAD_LETTER_QUEUE),
    logger,
    metrics: postgresConsumerMetrics(sql),
    receivedAt,
  });
}

/**
 * The daily retention job: deletes events archived more than ARCHIVE_RETENTION_DAYS ago and
 * dedup-ledger rows older than PROCESSED_EVENTS_RETENTION_DAYS, each in bounded chunks (a run
 * that hits the bound leaves the rest to the next run), and folds consumer-metrics minutes older
 * than CONSUMER_METRICS_RETENTION_DAYS into their totals (one statement; a failure there is
 * logged and leaves the other two done).
 */
export async function pruneExpiredEvents(rawEnv: unknown): Promise<{
  archive: { deleted: number; done: boolean };
  ledger: { deleted: number; done: boolean };
  metrics: { folded: number } | undefined;
}> {
  const logger = createLogger({ consumer: CONSUMER });
  const env = archiveEnvSchema.parse(rawEnv);
  const sql = openDatabase(env.HYPERDRIVE.connectionString);
  const archive = await pruneArchive(sql, {
    retentionDays: env.ARCHIVE_RETENTION_DAYS,
    chunkSize: env.ARCHIVE_PRUNE_CHUNK,
  });
  const ledger = await pruneProcessedEvents(sql, {
    retentionDays: env.PROCESSED_EVENTS_RETENTION_DAYS,
    chunkSize: env.ARCHIVE_PRUNE_CHUNK,
  });
  for (const [name, result] of [
    ["event_archive", archive],
    ["processed_events", ledger],
  ] as const)
    logger.log("info", `${name} pruned`, {
      count: result.deleted,
      note: result.done ? "complete" : "more left for the next run",
    });
  let metrics: { folded: number } | undefined;
  try {
    metrics = await pruneConsumerMetrics(sql, { retentionDays: env.CONSUMER_METRICS_RETENTION_DAYS });
    logger.log("info", "consumer_metrics folded", { count: metrics.folded, note: "minute rows into their totals" });
  } catch (thrown) {
    const error = databaseError(thrown, "folding edgebus.consumer_metrics");
    logger.log("error", "consumer_metrics not folded", { error_code: error.code, error_message: error.message });
  }
  return { archive, ledger, metrics };
}

export default {
  async queue(batch: MessageBatch, env: unknown): Promise<void> {
    await handleArchiveBatch(batch, env);
  },
  async scheduled(_controller: ScheduledController, env: unknown): Promise<void> {
    await pruneExpiredEvents(env);
  },
} satisfies ExportedHandler;
