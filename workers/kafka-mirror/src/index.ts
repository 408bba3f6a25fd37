/**
 * kafka-mirror Worker: sends each batch of the `kafka-mirror` queue to the bridge in one signed
 * request and settles every message from the bridge's per-event answer: `acked` → ack, a
 * retryable failure or a missing result → retry with backoff, a permanent failure → DLQ.
 */
import { settleBatch } from "#shared/consumers/consume-batch.ts";
import type { QueueBatch } from "#shared/consumers/consumer-message.ts";
import { queueDeadLetterSink } from "#shared/consumers/dead-letter-message.ts";
import { describeZodIssues, holdMisconfiguredBatch } from "#shared/consumers/hold-misconfigured-batch.ts";
import { consumed, deadLetter, type Outcome, outcomeFromError, poison, retryLater } from "#shared/consumers/outcome.ts";
import { withReadableBodies } from "#shared/consumers/readable-bodies.ts";
import { openDatabase } from "#shared/db/client.ts";
import { postgresConsumerMetrics } from "#shared/db/consumer-metrics-store.ts";
import { type CloudEventRecord, eventKey } from "#shared/envelope/cloud-event.ts";
import { parseQueuedEvent } from "#shared/envelope/queue-message.ts";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger } from "#shared/log.ts";
import { kafkaMirrorEnvSchema } from "./config.ts";
import { postMirrorBatch } from "./mirror-client.ts";

const CONSUMER = "kafka-mirror";

/** Whether this isolate already said it writes no metrics (no HYPERDRIVE binding). */
let warnedNoMetrics = false;

export async function handleMirrorBatch(
  delivered: QueueBatch,
  rawEnv: unknown,
  fetchImpl?: typeof fetch,
): Promise<void> {
  const batch = withReadableBodies(delivered);
  const receivedAt = Date.now();
  const logger = createLogger({ queue: batch.queue, consumer: CONSUMER });
  const parsed = kafkaMirrorEnvSchema.safeParse(rawEnv);
  if (!parsed.success) {
    await holdMisconfiguredBatch(batch, { consumer: CONSUMER, logger, problem: describeZodIssues(parsed.error) });
    return;
  }
  const env = parsed.data;
  if (env.HYPERDRIVE === undefined && !warnedNoMetrics) {
    warnedNoMetrics = true;
    logger.log("warn", "HYPERDRIVE is not bound: kafka-mirror writes no consumer metrics (edgebus.consumer_metrics)");
  }
  const outcomes = new Map<string, Outcome>();
  // Messages by event key: the same event twice in a batch is sent once and settled alike.
  const messagesByEvent = new Map<string, string[]>();
  const events: CloudEventRecord[] = [];
  for (const message of batch.messages) {
    const decoded = parseQueuedEvent(message.body);
    if (!decoded.ok) {
      outcomes.set(message.id, poison(decoded.reason));
      continue;
    }
    const key = eventKey(decoded.event);
    const ids = messagesByEvent.get(key);
    if (ids) ids.push(message.id);
    else {
      messagesByEvent.set(key, [message.id]);
      events.push(decoded.event);
    }
  }

  if (events.length > 0) {
    try {
      const { results } = await postMirrorBatch(events, {
        url: env.BRIDGE_MIRROR_URL,
        secret: env.BRIDGE_MIRROR_SECRET,
        timeoutMs: env.MIRROR_TIMEOUT_MS,
        fetch: fetchImpl,
      });
      const byKey = new Map(results.map((result) => [eventKey(result), result]));
      for (const [key, ids] of messagesByEvent) {
        const result = byKey.get(key);
        let outcome: Outcome;
        if (result?.status === "acked") outcome = consumed();
        else if (result === undefined)
          outcome = retryLater(
            new EdgebusError("upstream_unavailable", "mirror bridge returned no result for the event"),
          );
        else {
          const error = new EdgebusError(
            result.error?.retryable === false ? "bad_request" : "upstream_unavailable",
            `mirror bridge could not produce the event: ${result.error?.code ?? "failed"}: ${result.error?.message ?? "no reason given"}`,
            { retryable: result.error?.retryable ?? true, details: result.error },
          );
          outcome = error.retryable ? retryLater(error) : deadLetter(error);
        }
        // A second copy of the event in this batch was not sent again: a duplicate once the first is acked.
        ids.forEach((id, copy) => {
          outcomes.set(id, copy > 0 && outcome.kind === "consumed" ? consumed("duplicate") : outcome);
        });
      }
    } catch (thrown) {
      const outcome = outcomeFromError(thrown);
      for (const ids of messagesByEvent.values()) for (const id of ids) outcomes.set(id, outcome);
    }
  }

  const settlements = await settleBatch(batch, outcomes, {
    queue: batch.queue,
    consumer: CONSUMER,
    retry: { maxRetries: env.MAX_RETRIES },
    deadLetters: queueDeadLetterSink(env.DEAD_LETTER_QUEUE),
    logger,
    // One connection, for the one metrics statement (opened only when that statement runs).
    metrics:
      env.HYPERDRIVE === undefined
        ? null
        : postgresConsumerMetrics(openDatabase(env.HYPERDRIVE.connectionString, { max: 1 })),
    receivedAt,
  });
  logger.log("info", "batch mirrored", {
    count: batch.messages.length,
    note: ["ack", "retry", "dead-letter"]
      .map((action) => `${action}=${settlements.filter((s) => s.action === action).length}`)
      .join(" "),
  });
}

export default {
  async queue(batch: MessageBatch, env: unknown): Promise<void> {
    await handleMirrorBatch(batch, env);
  },
} satisfies ExportedHandler;
