/**
 * citizen-sync Worker: drains `<target>-citizen-sync` into `<target>.citizen_refs`
 * (wrangler.permits.toml / wrangler.revenue.toml: one deployment per read model). One transaction per batch; every message is
 * settled (ack / retry with backoff / dead letter) by `settleBatch`; `queue()` never throws.
 */
import { settleBatch } from "#shared/consumers/consume-batch.ts";
import { type QueueBatch, toConsumerMessage } from "#shared/consumers/consumer-message.ts";
import { queueDeadLetterSink } from "#shared/consumers/dead-letter-message.ts";
import { describeZodIssues, holdMisconfiguredBatch } from "#shared/consumers/hold-misconfigured-batch.ts";
import { type Outcome, outcomeFromError } from "#shared/consumers/outcome.ts";
import { withReadableBodies } from "#shared/consumers/readable-bodies.ts";
import { openDatabase } from "#shared/db/client.ts";
import { postgresConsumerMetrics } from "#shared/db/consumer-metrics-store.ts";
import { createLogger } from "#shared/log.ts";
import { citizenSyncEnvSchema } from "./config.ts";
import { syncCitizenBatch } from "./sync-batch.ts";

export async function handleCitizenSyncBatch(delivered: QueueBatch, rawEnv: unknown): Promise<void> {
  const batch = withReadableBodies(delivered);
  const logger = createLogger({ queue: batch.queue });
  const parsed = citizenSyncEnvSchema.safeParse(rawEnv);
  if (!parsed.success) {
    await holdMisconfiguredBatch(batch, { consumer: "citizen-sync", logger, problem: describeZodIssues(parsed.error) });
    return;
  }
  const env = parsed.data;
  const consumer = `citizen-sync:${env.CITIZEN_TARGET}`;
  const started = Date.now();
  // A client per invocation: Workers cannot reuse sockets across invocations.
  const sql = openDatabase(env.HYPERDRIVE.connectionString);
  let outcomes: Map<string, Outcome>;
  try {
    outcomes = await syncCitizenBatch(
      batch.messages.map((message) => toConsumerMessage(batch.queue, message)),
      { sql, target: env.CITIZEN_TARGET, consumer },
    );
  } catch (thrown) {
    // A bug, not bad input: keep the messages (retry, then DLQ when exhausted) rather than throw.
    const failure = outcomeFromError(thrown);
    outcomes = new Map(batch.messages.map((message) => [message.id, failure]));
  }
  const settlements = await settleBatch(batch, outcomes, {
    queue: batch.queue,
    consumer,
    retry: { maxRetries: env.MAX_RETRIES },
    deadLetters: queueDeadLetterSink(env.DEAD_LETTER_QUEUE),
    logger: logger.child({ consumer }),
    metrics: postgresConsumerMetrics(sql),
    receivedAt: started,
  });
  logger.log("info", "batch settled", {
    consumer,
    count: batch.messages.length,
    duration_ms: Date.now() - started,
    note: ["ack", "retry", "dead-letter"]
      .map((action) => `${action}=${settlements.filter((s) => s.action === action).length}`)
      .join(" "),
  });
}

export default {
  async queue(batch: MessageBatch, env: unknown): Promise<void> {
    await handleCitizenSyncBatch(batch, env);
  },
} satisfies ExportedHandler;
