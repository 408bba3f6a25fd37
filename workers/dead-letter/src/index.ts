/**
 * dead-letter Worker: stores every message of every `<queue>-dlq` in `edgebus.dead_letters`, one
 * statement per batch. A failed write retries the batch with backoff (settled by `settleBatch`);
 * there is no DLQ behind a DLQ, so nothing is ever dead-lettered from here.
 */
import { z } from "zod";
import { settleBatch } from "#shared/consumers/consume-batch.ts";
import type { QueueBatch } from "#shared/consumers/consumer-message.ts";
import type { DeadLetterSink } from "#shared/consumers/dead-letter-message.ts";
import { consumed, type Outcome, retryLater } from "#shared/consumers/outcome.ts";
import { databaseError, openDatabase } from "#shared/db/client.ts";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger } from "#shared/log.ts";
import { hyperdriveBinding } from "#shared/worker-bindings.ts";
import { recordDeadLetters } from "./dead-letters-store.ts";
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

export async function handleDeadLetterBatch(batch: QueueBatch, rawEnv: unknown, now = new Date()): Promise<void> {
  const logger = createLogger({ queue: batch.queue, consumer: CONSUMER });
  let outcome: Outcome;
  const parsed = deadLetterEnvSchema.safeParse(rawEnv);
  if (!parsed.success) {
    outcome = retryLater(new EdgebusError("internal", "dead-letter is misconfigured: HYPERDRIVE binding missing"));
  } else {
    try {
      const sql = openDatabase(parsed.data.HYPERDRIVE.connectionString);
      await recordDeadLetters(
        sql,
        batch.messages.map((message) => toDeadLetterRecord(batch.queue, message, now)),
      );
      outcome = consumed();
    } catch (thrown) {
      // Even a "permanent" SQL error is retried: dropping a dead letter would lose the event.
      const error = databaseError(thrown, "writing edgebus.dead_letters");
      outcome = retryLater(new EdgebusError(error.code, error.message, { cause: error, retryable: true }));
    }
  }
  const outcomes = new Map(batch.messages.map((message) => [message.id, outcome]));
  const settlements = await settleBatch(batch, outcomes, {
    queue: batch.queue,
    consumer: CONSUMER,
    retry: { maxRetries: Number.MAX_SAFE_INTEGER },
    deadLetters: noDeadLetterQueue,
    logger,
  });
  if (outcome.kind === "consumed") logger.log("info", "dead letters stored", { count: batch.messages.length });
  else
    logger.log("error", "dead letters not stored; retrying", {
      count: batch.messages.length,
      error_code: outcome.kind === "retry-later" ? outcome.error.code : undefined,
      error_message: outcome.kind === "retry-later" ? outcome.error.message : undefined,
      delay_seconds: settlements[0]?.action === "retry" ? settlements[0].delaySeconds : undefined,
    });
}

export default {
  async queue(batch: MessageBatch, env: unknown): Promise<void> {
    await handleDeadLetterBatch(batch, env);
  },
} satisfies ExportedHandler;
