/**
 * notifier Worker: drains the `notifications` queue. A batch's recipients are read in one query,
 * every event is planned (notification rule → recipient → send records and keys, `planBatch`) and
 * all the sends planned are reserved in `edgebus.notifications` in one statement before the first
 * is made; then each event's plan is carried out (its messages rendered, then each send in a
 * provider slot, sent marks: `executePlan`). Failures
 * become outcomes (retry with backoff honouring a provider's `Retry-After`, or dead letter for
 * permanent ones), `consumeBatch` settles every message, and each message gets one log line
 * (`withNotificationLogging`). `queue()` never throws.
 *
 * No `processed_events` dedup here: the send ledger is finer grained (per channel and
 * recipient), so a redelivery after a partial failure re-sends only what is missing.
 */
import { consumeBatch } from "#shared/consumers/consume-batch.ts";
import type { QueueBatch, QueueMessage } from "#shared/consumers/consumer-message.ts";
import { queueDeadLetterSink } from "#shared/consumers/dead-letter-message.ts";
import { compose } from "#shared/consumers/handler.ts";
import { holdMisconfiguredBatch } from "#shared/consumers/hold-misconfigured-batch.ts";
import { consumed } from "#shared/consumers/outcome.ts";
import { withReadableBodies } from "#shared/consumers/readable-bodies.ts";
import type { Settlement } from "#shared/consumers/settle.ts";
import { withDeadLetter } from "#shared/consumers/with-dead-letter.ts";
import { withRetry } from "#shared/consumers/with-retry.ts";
import { openDatabase } from "#shared/db/client.ts";
import { postgresConsumerMetrics } from "#shared/db/consumer-metrics-store.ts";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { parseQueuedEvent } from "#shared/envelope/queue-message.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import { describeConfigIssues, type NotifierEnv, notifierEnvSchema } from "./config.ts";
import { valueAt } from "./notify/event-variables.ts";
import { SEND_LEASE_SECONDS } from "./notify/notification-log.ts";
import type { DirectoryName } from "./notify/notification-rule.ts";
import { notificationRuleFor } from "./notify/notification-rules.ts";
import { planBatch, planFor } from "./notify/notify-batch.ts";
import {
  type EventPlan,
  executePlan,
  MARK_SENT_RETRY_DELAYS_MS,
  type NotifierDependencies,
  type NotifyResult,
  providerSlots,
  UNKNOWN_CITIZEN,
} from "./notify/notify-event.ts";
import { PostgresCitizenDirectory } from "./notify/postgres-citizen-directory.ts";
import { PostgresNotificationLog } from "./notify/postgres-notification-log.ts";
import { PostgresPushSubscriptions } from "./notify/push-subscriptions.ts";
import { isQueuedNotification, priorityOrder } from "./notify/queued-notification.ts";
import { loadQueuedTemplates, type QueuedTemplateCatalogue } from "./notify/queued-template-catalogue.ts";
import { SendGridSender } from "./notify/sendgrid-sender.ts";
import { loadTemplateCatalogue, type TemplateCatalogue } from "./notify/template-catalogue.ts";
import { TwilioSender } from "./notify/twilio-sender.ts";
import { WebPushSender } from "./notify/web-push-sender.ts";
import { WebhookSender } from "./notify/webhook-sender.ts";
import { withNotificationLogging } from "./notify-log-line.ts";

const CONSUMER = "notifier";
/**
 * Messages handled at once. A batch's recipients are read in one query and its sends reserved
 * in two statements (these first messages' before the first send, the rest's right behind
 * them: `planBatch`); the sent marks of sends that
 * finish together go in one statement (`PostgresNotificationLog`), and provider calls share
 * `PROVIDER_CALLS` slots, each taken before its send is reserved (`providerSlots`), so the wait
 * for one does not count against a reservation's lease and this is not bounded by it. Enough
 * for every slot to stay busy while the other messages wait for their sent marks.
 */
const CONCURRENCY = 24;
/**
 * Provider calls in flight at once: with the one Postgres connection, the 6 connections a Worker
 * invocation may hold. One connection is enough: every statement of a batch is one per batch or
 * per wave, and they follow each other.
 */
const PROVIDER_CALLS = 5;
const POSTGRES_CONNECTIONS = 1;
/**
 * Sent marks wait for one another: the messages not sending (CONCURRENCY - PROVIDER_CALLS) may
 * all wait for their mark without starving a provider slot, so that many go in one statement, or
 * whatever waits once no other send is under way, or after `waitMs` at most.
 */
const SENT_MARKS = { size: CONCURRENCY - PROVIDER_CALLS, waitMs: 20 };

/**
 * How old a batch's reservation may be when its send is handed out (older ones are renewed
 * first): what the lease leaves after the call itself and the sent mark's retries, so no other
 * delivery can take the send over as a stopped attempt while it is under way. A send is handed
 * out only once it holds its provider slot (`execute` takes the slot before reserving), so no
 * wait for a slot comes after. Not positive (a long PROVIDER_TIMEOUT_MS): sends are not reserved
 * ahead, each is reserved when it is made.
 */
export function holdSeconds(providerTimeoutMs: number): number {
  const call = providerTimeoutMs / 1000;
  const marking = (SENT_MARKS.waitMs + MARK_SENT_RETRY_DELAYS_MS.reduce((sum, ms) => sum + ms, 0)) / 1000 + 1;
  return SEND_LEASE_SECONDS - call - marking;
}

function rejectUnreadableEvent(body: unknown): string | undefined {
  const decoded = parseQueuedEvent(body);
  return decoded.ok ? undefined : decoded.reason;
}

let templates: TemplateCatalogue | undefined;
let queuedTemplates: QueuedTemplateCatalogue | undefined;
/** Templates are static data: checked and compiled once per isolate, on first use. */
function templateCatalogue(): TemplateCatalogue {
  templates ??= loadTemplateCatalogue();
  return templates;
}
function queuedTemplateCatalogue(): QueuedTemplateCatalogue {
  queuedTemplates ??= loadQueuedTemplates();
  return queuedTemplates;
}

/**
 * Reads the recipients of a batch's events in one query per directory (instead of one each); an
 * event whose id is not readable here is looked up on its own later, as before.
 */
async function prefetchRecipients(directory: PostgresCitizenDirectory, bodies: readonly unknown[]): Promise<void> {
  const wanted = new Map<DirectoryName, number[]>();
  for (const body of bodies) {
    const event = body as Partial<CloudEventRecord> | null;
    const rule = typeof event?.type === "string" ? notificationRuleFor(event.type) : undefined;
    if (!rule) continue;
    const id = valueAt(event?.data, rule.recipient.citizenIdPath);
    if (!Number.isSafeInteger(id)) continue;
    const ids = wanted.get(rule.recipient.directory) ?? [];
    ids.push(id as number);
    wanted.set(rule.recipient.directory, ids);
  }
  await Promise.all([...wanted].map(([name, ids]) => directory.prefetch(name, ids)));
}

function dependencies(
  env: NotifierEnv,
  sql: ReturnType<typeof openDatabase>,
  directory: PostgresCitizenDirectory,
): NotifierDependencies {
  const timeoutMs = env.PROVIDER_TIMEOUT_MS;
  return {
    catalogue: templateCatalogue(),
    queuedTemplates: queuedTemplateCatalogue(),
    directory,
    pushSubscriptions: new PostgresPushSubscriptions(sql),
    log: new PostgresNotificationLog(sql, { holdSeconds: Math.max(0, holdSeconds(timeoutMs)), sentMarks: SENT_MARKS }),
    timeZone: env.NOTIFY_TIME_ZONE,
    unknownOutcome: { visibilitySeconds: env.UNKNOWN_OUTCOME_VISIBILITY_SECONDS, policy: env.UNKNOWN_OUTCOME_POLICY },
    unknownCitizenRetrySeconds: env.UNKNOWN_CITIZEN_RETRY_SECONDS,
    // Every provider call (sends and lookups) is made by `execute` inside one of these slots.
    providerSlots: providerSlots(PROVIDER_CALLS),
    senders: {
      email: new SendGridSender({
        baseUrl: env.SENDGRID_BASE_URL,
        apiKey: env.SENDGRID_API_KEY,
        from: env.SENDGRID_FROM_NAME
          ? { email: env.SENDGRID_FROM, name: env.SENDGRID_FROM_NAME }
          : { email: env.SENDGRID_FROM },
        timeoutMs,
        emailActivity: env.SENDGRID_EMAIL_ACTIVITY,
      }),
      sms: new TwilioSender({
        baseUrl: env.TWILIO_BASE_URL,
        accountSid: env.TWILIO_ACCOUNT_SID,
        authToken: env.TWILIO_AUTH_TOKEN,
        from: env.TWILIO_FROM,
        timeoutMs,
      }),
      ...(env.WEBHOOK_URL && env.WEBHOOK_SECRET
        ? { webhook: { url: env.WEBHOOK_URL, sender: new WebhookSender({ secret: env.WEBHOOK_SECRET, timeoutMs }) } }
        : {}),
      ...(env.VAPID_PUBLIC_KEY && env.VAPID_PRIVATE_KEY
        ? {
            push: new WebPushSender({
              vapid: { publicKey: env.VAPID_PUBLIC_KEY, privateKey: env.VAPID_PRIVATE_KEY, subject: env.VAPID_SUBJECT },
              ttlSeconds: env.PUSH_TTL_SECONDS,
              timeoutMs,
            }),
          }
        : {}),
    },
  };
}

export async function handleNotificationBatch(delivered: QueueBatch, rawEnv: unknown): Promise<Settlement[]> {
  const batch = withReadableBodies(delivered);
  const receivedAt = Date.now();
  const logger = createLogger({ queue: batch.queue, consumer: CONSUMER });
  const parsed = notifierEnvSchema.safeParse(rawEnv);
  if (!parsed.success) {
    return holdMisconfiguredBatch(batch, { consumer: CONSUMER, logger, problem: describeConfigIssues(parsed.error) });
  }
  const env = parsed.data;
  // A client per invocation: Workers cannot reuse sockets across invocations.
  const sql = openDatabase(env.HYPERDRIVE.connectionString, { max: POSTGRES_CONNECTIONS });
  const directory = new PostgresCitizenDirectory(sql);
  // The read-ahead first: it opens the connection while the rest is set up. A failed read ahead
  // costs nothing but the round trip: each event then looks its recipient up alone.
  const readAhead = prefetchRecipients(
    directory,
    batch.messages.map((message) => message.body),
  ).catch(() => {});
  const deps = dependencies(env, sql, directory);
  const retry = { maxRetries: env.MAX_RETRIES };
  let unknownCitizenSkips = 0;
  /** Queued notifications not sent, by reason (each also a `skipped` row in edgebus.notifications). */
  const queuedSkips = new Map<string, number>();

  /** Each message's channel results, for its one log line (`withNotificationLogging`). */
  const results = new Map<string, NotifyResult>();
  let plans: Map<string, Promise<EventPlan>> = new Map();

  const handler = compose<unknown>(
    async function notify(message) {
      // withDeadLetter below has already refused bodies parseQueuedEvent cannot read.
      const event = message.body as CloudEventRecord;
      const delivery = { enqueuedAt: message.timestamp, attempts: message.attempts, maxRetries: env.MAX_RETRIES };
      const queued = isQueuedNotification(event.type);
      const plan = await (plans.get(message.id) ?? planFor(event, deps));
      const result = await executePlan(event, plan, deps, delivery);
      results.set(message.id, result);
      for (const channel of result.channels) {
        if (channel.status === "skipped" && channel.reason === UNKNOWN_CITIZEN) unknownCitizenSkips++;
        if (channel.status === "skipped" && queued) {
          queuedSkips.set(channel.reason, (queuedSkips.get(channel.reason) ?? 0) + 1);
        }
      }
      // Every channel was sent by an earlier delivery: a redelivery, nothing new (counted as a duplicate).
      const redelivered =
        result.channels.length > 0 && result.channels.every((channel) => channel.status === "already_sent");
      return consumed(redelivered ? "duplicate" : "applied");
    },
    withNotificationLogging(logger, (messageId) => {
      const result = results.get(messageId);
      results.delete(messageId);
      return result;
    }),
    withRetry(retry),
    withDeadLetter({ reject: rejectUnreadableEvent }),
  );
  // Priority: a batch's high-priority queued notifications are sent first, low ones last (stable).
  const order = priorityOrder(batch.messages.map((message) => message.body));
  const ordered = { queue: batch.queue, messages: order.map((index) => batch.messages[index] as QueueMessage) };
  await readAhead;
  let orderedSettlements: Settlement[];
  try {
    // Every event planned, and the first wave's sends reserved, before the first send; a later
    // message's plan is handed over only once its own sends are reserved.
    plans = await planBatch(ordered.messages, deps, {
      reserveAhead: holdSeconds(env.PROVIDER_TIMEOUT_MS) > 0,
      // The messages the first workers take: their sends start while the rest are reserved.
      firstWave: CONCURRENCY,
    });
    orderedSettlements = await consumeBatch(
      ordered,
      handler,
      {
        queue: batch.queue,
        consumer: CONSUMER,
        retry,
        logger,
        deadLetters: queueDeadLetterSink(env.DEAD_LETTER_QUEUE),
        metrics: postgresConsumerMetrics(sql),
        receivedAt,
      },
      { concurrency: CONCURRENCY },
    );
  } finally {
    // Reservations of sends an event stopped before making (nothing was sent for them).
    await deps.log.releaseUnused?.().catch((error: unknown) => {
      logger.log("warn", "unused notification reservations not released; they expire as stopped attempts", {
        ...errorLogFields(error),
      });
    });
  }
  const settlements: Settlement[] = new Array(batch.messages.length);
  order.forEach((index, position) => {
    settlements[index] = orderedSettlements[position] as Settlement;
  });
  if (queuedSkips.size > 0) {
    logger.log("warn", "queued notifications skipped", {
      count: [...queuedSkips.values()].reduce((sum, count) => sum + count, 0),
      note: [...queuedSkips].map(([reason, count]) => `${reason}: ${count}`).join(", "),
    });
  }
  if (unknownCitizenSkips > 0) {
    // Each is a row in edgebus.notifications (status skipped, skip_reason unknown_citizen).
    logger.log(
      "warn",
      "notifications skipped: unknown citizen (not in citizen_refs within UNKNOWN_CITIZEN_RETRY_SECONDS)",
      {
        count: unknownCitizenSkips,
      },
    );
  }
  return settlements;
}

export default {
  async queue(batch: MessageBatch, env: unknown): Promise<void> {
    await handleNotificationBatch(batch, env);
  },
} satisfies ExportedHandler;
