/**
 * dead-letter Worker: stores every message of every `<queue>-dlq` in `edgebus.dead_letters`.
 * There is no DLQ behind a DLQ, so nothing is ever dead-lettered from here, and no letter may
 * keep another out:
 *
 * - a letter holding what Postgres cannot store (a NUL, an unpaired surrogate…) is stored encoded
 *   at once (`storable-letter.ts`: exact body as JSON text, a readable copy, a note);
 * - the batch is written in one statement; when Postgres refuses it for a permanent reason, the
 *   letters are written one by one, and a letter refused on its own is stored encoded;
 * - a failure a retry can fix (Postgres unreachable, a schema older than the code) retries only
 *   the letters not stored yet, with backoff (settled by `settleBatch`).
 */
import { z } from "zod";
import { settleBatch } from "#shared/consumers/consume-batch.ts";
import type { QueueBatch } from "#shared/consumers/consumer-message.ts";
import type { ConsumerMetricsSink } from "#shared/consumers/consumer-metrics.ts";
import type { DeadLetterSink } from "#shared/consumers/dead-letter-message.ts";
import { consumed, type Outcome, retryLater } from "#shared/consumers/outcome.ts";
import { withReadableBodies } from "#shared/consumers/readable-bodies.ts";
import { type Database, databaseError, openDatabase } from "#shared/db/client.ts";
import { postgresConsumerMetrics } from "#shared/db/consumer-metrics-store.ts";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger, type Logger } from "#shared/log.ts";
import { hyperdriveBinding } from "#shared/worker-bindings.ts";
import { type DeadLetterRecord, recordDeadLetters } from "./dead-letters-store.ts";
import { encodedRecord, recordProblems } from "./storable-letter.ts";
import { toDeadLetterRecord } from "./to-dead-letter-record.ts";

export const deadLetterEnvSchema = z.object({
  HYPERDRIVE: hyperdriveBinding,
});

const CONSUMER = "dead-letter";

/** A DLQ has no DLQ: settle() falls back to retrying when a dead letter cannot be sent. */
const noDeadLetterQueue: DeadLetterSink = {
  async send() {
    throw new EdgebusError("internal", "dead-letter queues have no dead-letter queue");
  },
};

const ACTION = "writing edgebus.dead_letters";

/** Even a "permanent" SQL error is retried here: dropping a dead letter would lose the event. */
function retryable(error: EdgebusError): Outcome {
  return retryLater(
    error.retryable
      ? error
      : new EdgebusError(error.code, error.message, {
          cause: error,
          retryable: true,
          retryAfterSeconds: error.retryAfterSeconds,
        }),
  );
}

interface Letter {
  readonly messageId: string;
  record: DeadLetterRecord;
}

/**
 * Stores one letter alone; stores it encoded when Postgres refuses it as it is. `unavailable`:
 * the failure was the database's (unreachable, schema behind), so the letters after it would
 * fail the same way.
 */
async function storeAlone(
  sql: Database,
  letter: Letter,
  logger: Logger,
): Promise<{ outcome: Outcome; unavailable: boolean }> {
  try {
    await recordDeadLetters(sql, [letter.record]);
    return { outcome: consumed(), unavailable: false };
  } catch (thrown) {
    const error = databaseError(thrown, ACTION);
    if (error.retryable) return { outcome: retryable(error), unavailable: true };
    if (letter.record.eventText !== undefined) return { outcome: retryable(error), unavailable: false };
    letter.record = encodedRecord(letter.record, { refusedBy: error.message });
    logStoredEncoded(logger, letter);
    try {
      await recordDeadLetters(sql, [letter.record]);
      return { outcome: consumed(), unavailable: false };
    } catch (again) {
      const final = databaseError(again, ACTION);
      return { outcome: retryable(final), unavailable: final.retryable };
    }
  }
}

function logStoredEncoded(logger: Logger, letter: Letter): void {
  logger.log("warn", "dead letter stored encoded", {
    request_id: letter.messageId,
    event_id: letter.record.eventId,
    event_source: letter.record.eventSource,
    note: letter.record.storageNote,
  });
}

/** One outcome per letter: stored (consumed) or retry. */
async function storeLetters(sql: Database, letters: readonly Letter[], logger: Logger): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  try {
    await recordDeadLetters(
      sql,
      letters.map((letter) => letter.record),
    );
    for (const letter of letters) outcomes.set(letter.messageId, consumed());
    return outcomes;
  } catch (thrown) {
    const error = databaseError(thrown, ACTION);
    if (error.retryable) {
      for (const letter of letters) outcomes.set(letter.messageId, retryable(error));
      return outcomes;
    }
    logger.log("warn", "Postgres refused the batch of dead letters; storing them one by one", {
      count: letters.length,
      error_code: error.code,
      error_message: error.message,
    });
  }
  for (const letter of letters) {
    const { outcome, unavailable } = await storeAlone(sql, letter, logger);
    outcomes.set(letter.messageId, outcome);
    if (unavailable) {
      for (const rest of letters) if (!outcomes.has(rest.messageId)) outcomes.set(rest.messageId, outcome);
      break;
    }
  }
  return outcomes;
}

export async function handleDeadLetterBatch(delivered: QueueBatch, rawEnv: unknown, now = new Date()): Promise<void> {
  const batch = withReadableBodies(delivered);
  const receivedAt = Date.now();
  const logger = createLogger({ queue: batch.queue, consumer: CONSUMER });
  let outcomes: Map<string, Outcome>;
  let metrics: ConsumerMetricsSink | null = null;
  const parsed = deadLetterEnvSchema.safeParse(rawEnv);
  if (!parsed.success) {
    const outcome = retryLater(
      new EdgebusError("internal", "dead-letter is misconfigured: HYPERDRIVE binding missing", { retryable: true }),
    );
    outcomes = new Map(batch.messages.map((message) => [message.id, outcome]));
  } else {
    const letters: Letter[] = batch.messages.map((message) => {
      const letter: Letter = { messageId: message.id, record: toDeadLetterRecord(batch.queue, message, now) };
      const problems = recordProblems(letter.record);
      if (problems.length > 0) {
        letter.record = encodedRecord(letter.record, { problems });
        logStoredEncoded(logger, letter);
      }
      return letter;
    });
    const sql = openDatabase(parsed.data.HYPERDRIVE.connectionString);
    outcomes = await storeLetters(sql, letters, logger);
    metrics = postgresConsumerMetrics(sql);
  }
  const settlements = await settleBatch(batch, outcomes, {
    queue: batch.queue,
    consumer: CONSUMER,
    retry: { maxRetries: Number.MAX_SAFE_INTEGER },
    deadLetters: noDeadLetterQueue,
    logger,
    metrics,
    receivedAt,
  });
  const stored = settlements.filter((settlement) => settlement.action === "ack").length;
  if (stored > 0) logger.log("info", "dead letters stored", { count: stored });
  const failed = [...outcomes.values()].find((outcome) => outcome.kind === "retry-later");
  const retried = settlements.filter((settlement) => settlement.action === "retry");
  if (retried.length > 0) {
    logger.log("error", "dead letters not stored; retrying", {
      count: retried.length,
      error_code: failed?.kind === "retry-later" ? failed.error.code : undefined,
      error_message: failed?.kind === "retry-later" ? failed.error.message : undefined,
      delay_seconds: retried[0]?.action === "retry" ? retried[0].delaySeconds : undefined,
    });
  }
}

export default {
  async queue(batch: MessageBatch, env: unknown): Promise<void> {
    await handleDeadLetterBatch(batch, env);
  },
} satisfies ExportedHandler;
