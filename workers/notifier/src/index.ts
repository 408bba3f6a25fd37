/**
 * notifier Worker: drains the `notifications` queue. Each event goes through
 * `notifyEvent` (notification rule → recipient → templates → providers, with every send recorded in
 * `edgebus.notifications`); failures become outcomes (retry with backoff honouring a provider's
 * `Retry-After`, or dead letter for permanent ones) and `consumeBatch` settles every message.
 * `queue()` never throws.
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
import type { Settlement } from "#shared/consumers/settle.ts";
import { withDeadLetter } from "#shared/consumers/with-dead-letter.ts";
import { withLogging } from "#shared/consumers/with-logging.ts";
import { withRetry } from "#shared/consumers/with-retry.ts";
import { openDatabase } from "#shared/db/client.ts";
import { postgresConsumerMetrics } from "#shared/db/consumer-metrics-store.ts";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { parseQueuedEvent } from "#shared/envelope/queue-message.ts";
import { createLogger, eventLogFields } from "#shared/log.ts";
import { describeConfigIssues, type NotifierEnv, notifierEnvSchema } from "./config.ts";
import { valueAt } from "./notify/event-variables.ts";
import type { Channel } from "./notify/notification.ts";
import type { DirectoryName } from "./notify/notification-rule.ts";
import { notificationRuleFor } from "./notify/notification-rules.ts";
import {
  type NotifierDependencies,
  type NotifierSenders,
  notifyEvent,
  UNKNOWN_CITIZEN,
} from "./notify/notify-event.ts";
import { PostgresCitizenDirectory } from "./notify/postgres-citizen-directory.ts";
import { PostgresNotificationLog } from "./notify/postgres-notification-log.ts";
import { PostgresPushSubscriptions } from "./notify/push-subscriptions.ts";
import { isQueuedNotification, notifyQueued, priorityOrder } from "./notify/queued-notification.ts";
import { loadQueuedTemplates, type QueuedTemplateCatalogue } from "./notify/queued-template-catalogue.ts";
import type { Sender } from "./notify/sender.ts";
import { SendGridSender } from "./notify/sendgrid-sender.ts";
import { loadTemplateCatalogue, type TemplateCatalogue } from "./notify/template-catalogue.ts";
import { TwilioSender } from "./notify/twilio-sender.ts";
import { WebPushSender } from "./notify/web-push-sender.ts";
import { WebhookSender } from "./notify/webhook-sender.ts";

const CONSUMER = "notifier";
/**
 * Messages handled at once. Their recipients are read in one query first, their ledger
 * reservations and sent marks grouped into one statement per wave (`PostgresNotificationLog`),
 * and their provider calls share `PROVIDER_CALLS` slots. A reservation waits for a slot at most
 * (CONCURRENCY / PROVIDER_CALLS) provider calls (30 s with the default 10 s timeout), well inside
 * its 60 s lease (`SEND_LEASE_SECONDS`).
 */
const CONCURRENCY = 12;
/** Provider calls in flight at once: with Postgres' 2 the 6 connections a Worker invocation may hold. */
const PROVIDER_CALLS = 4;

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
    log: new PostgresNotificationLog(sql),
    timeZone: env.NOTIFY_TIME_ZONE,
    unknownOutcome: { visibilitySeconds: env.UNKNOWN_OUTCOME_VISIBILITY_SECONDS, policy: env.UNKNOWN_OUTCOME_POLICY },
    unknownCitizenRetrySeconds: env.UNKNOWN_CITIZEN_RETRY_SECONDS,
    senders: limitProviderCalls(PROVIDER_CALLS, {
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
    }),
  };
}

/** Every sender's calls (sends and lookups) share `slots` slots: at most that many provider calls at once. */
function limitProviderCalls(slots: number, senders: NotifierSenders): NotifierSenders {
  let free = slots;
  const waiting: (() => void)[] = [];
  const inSlot = async <T>(call: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await call();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
  const limit = <C extends Channel>(sender: Sender<C>): Sender<C> => {
    const lookup = sender.lookup;
    return {
      channel: sender.channel,
      provider: sender.provider,
      send: (notification) => inSlot(() => sender.send(notification)),
      ...(lookup ? { lookup: (notification, since) => inSlot(() => lookup(notification, since)) } : {}),
    };
  };
  return {
    email: limit(senders.email),
    sms: limit(senders.sms),
    ...(senders.webhook ? { webhook: { url: senders.webhook.url, sender: limit(senders.webhook.sender) } } : {}),
    ...(senders.push ? { push: limit(senders.push) } : {}),
  };
}

export async function handleNotificationBatch(batch: QueueBatch, rawEnv: unknown): Promise<Settlement[]> {
  const receivedAt = Date.now();
  const logger = createLogger({ queue: batch.queue, consumer: CONSUMER });
  const parsed = notifierEnvSchema.safeParse(rawEnv);
  if (!parsed.success) {
    return holdMisconfiguredBatch(batch, { consumer: CONSUMER, logger, problem: describeConfigIssues(parsed.error) });
  }
  const env = parsed.data;
  // A client per invocation: Workers cannot reuse sockets across invocations.
  const sql = openDatabase(env.HYPERDRIVE.connectionString, { max: 2 });
  const directory = new PostgresCitizenDirectory(sql);
  const deps = dependencies(env, sql, directory);
  const retry = { maxRetries: env.MAX_RETRIES };
  let unknownCitizenSkips = 0;
  /** Queued notifications not sent, by reason (each also a `skipped` row in edgebus.notifications). */
  const queuedSkips = new Map<string, number>();

  const handler = compose<unknown>(
    async function notify(message) {
      // withDeadLetter below has already refused bodies parseQueuedEvent cannot read.
      const event = message.body as CloudEventRecord;
      const delivery = { enqueuedAt: message.timestamp, attempts: message.attempts, maxRetries: env.MAX_RETRIES };
      const queued = isQueuedNotification(event.type);
      const result = queued ? await notifyQueued(event, deps, delivery) : await notifyEvent(event, deps, delivery);
      if (result.template === undefined) {
        logger.log("info", "no notification rule for this event type", {
          request_id: message.id,
          ...eventLogFields(message.body),
        });
      }
      for (const channel of result.channels) {
        if (channel.status === "skipped" && channel.reason === UNKNOWN_CITIZEN) unknownCitizenSkips++;
        if (channel.status === "skipped" && queued) {
          queuedSkips.set(channel.reason, (queuedSkips.get(channel.reason) ?? 0) + 1);
        }
        logger.log(channel.status === "given_up" ? "warn" : "info", `notification ${channel.status}`, {
          request_id: message.id,
          ...eventLogFields(message.body),
          note:
            channel.status === "skipped"
              ? `${channel.channel}: ${channel.reason}`
              : channel.status === "sent" && channel.reconciliation
                ? `${channel.channel}: reconciled ${channel.reconciliation}`
                : channel.channel,
        });
      }
      // Every channel was sent by an earlier delivery: a redelivery, nothing new (counted as a duplicate).
      const redelivered =
        result.channels.length > 0 && result.channels.every((channel) => channel.status === "already_sent");
      return consumed(redelivered ? "duplicate" : "applied");
    },
    withLogging(logger),
    withRetry(retry),
    withDeadLetter({ reject: rejectUnreadableEvent }),
  );
  // Priority: a batch's high-priority queued notifications are sent first, low ones last (stable).
  const order = priorityOrder(batch.messages.map((message) => message.body));
  const ordered = { queue: batch.queue, messages: order.map((index) => batch.messages[index] as QueueMessage) };
  // A failed read ahead costs nothing but the round trip: each event then looks its recipient up alone.
  await prefetchRecipients(
    directory,
    batch.messages.map((message) => message.body),
  ).catch(() => {});
  const orderedSettlements = await consumeBatch(
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
