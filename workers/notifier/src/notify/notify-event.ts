/**
 * Turns one event into its notifications: find the subscription, resolve the recipient, render
 * every message first (a template problem fails before anything is sent), then for each channel
 * reserve the send in the log, call the provider, and record the result.
 *
 * Channel failures do not stop the other channels: the email that worked stays sent, and the
 * redelivery caused by the failed SMS finds it `sent` and skips it.
 */
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError } from "#shared/errors.ts";
import { formatVariables } from "./event-variables.ts";
import { idempotencyKeyOf } from "./idempotency-key.ts";
import type { Channel, EmailNotification, SendReceipt, SmsNotification, WebhookNotification } from "./notification.ts";
import { type NotificationLog, SEND_LEASE_SECONDS, type SendRecord } from "./notification-log.ts";
import { type CitizenDirectory, type Recipient, resolveRecipient } from "./recipient.ts";
import type { Sender } from "./sender.ts";
import type { ChannelRule, Subscription } from "./subscription.ts";
import { subscriptionFor } from "./subscriptions.ts";
import type { TemplateCatalogue } from "./template-catalogue.ts";

export interface NotifierSenders {
  readonly email: Sender<"email">;
  readonly sms: Sender<"sms">;
  /** Absent when no webhook endpoint is configured. */
  readonly webhook?: { readonly sender: Sender<"webhook">; readonly url: string };
}

export interface NotifierDependencies {
  readonly catalogue: TemplateCatalogue;
  readonly directory: CitizenDirectory;
  readonly log: NotificationLog;
  readonly senders: NotifierSenders;
  /** IANA time zone for times in messages. */
  readonly timeZone: string;
}

export type ChannelResult =
  | { readonly channel: Channel; readonly status: "sent"; readonly providerMessageId: string }
  | { readonly channel: Channel; readonly status: "already_sent" }
  | { readonly channel: Channel; readonly status: "skipped"; readonly reason: string }
  | { readonly channel: Channel; readonly status: "failed"; readonly error: EdgebusError };

export interface NotifyResult {
  /** Undefined when no subscription matches the event type (nothing to do). */
  readonly template: string | undefined;
  readonly locale: string | undefined;
  readonly channels: readonly ChannelResult[];
}

/** Why a channel the subscription requires was not sent; `no_recipient` when nothing is known at all. */
const SKIP_REASONS: Readonly<Record<Channel, string>> = {
  email: "no_email_address",
  sms: "no_phone_number",
  webhook: "no_webhook_endpoint",
};

type Planned =
  | { kind: "send"; record: SendRecord; send: () => Promise<SendReceipt> }
  | { kind: "skip"; record: SendRecord; reason: string };

/**
 * Sends the notifications of one event. Resolves when every channel is sent, already sent or
 * skipped; rejects with an `EdgebusError` when a channel failed — `retryable` (with the longest
 * `retryAfterSeconds` asked for) if any failure may pass, otherwise permanent.
 */
export async function notifyEvent(event: CloudEventRecord, deps: NotifierDependencies): Promise<NotifyResult> {
  const subscription = subscriptionFor(event.type);
  if (!subscription) return { template: undefined, locale: undefined, channels: [] };

  const recipient = await resolveRecipient(subscription, event.data, deps.directory);
  const locale = deps.catalogue.chooseLocale(recipient.preferredLanguage);
  const values = {
    ...formatVariables(subscription.variables, event.data, {
      locale,
      timeZone: deps.timeZone,
      catalogue: deps.catalogue,
    }),
    name: recipient.name ?? "",
    greeting: deps.catalogue.greeting(locale, recipient.name),
  };

  const planned: Planned[] = [];
  for (const rule of subscription.channels) {
    const plan = await planChannel(rule, subscription, event, recipient, locale, values, deps);
    if (plan) planned.push(plan);
  }

  const results: ChannelResult[] = [];
  for (const plan of planned) results.push(await execute(plan, deps.log));

  const failures = results.filter((result) => result.status === "failed");
  if (failures.length > 0) throw combinedFailure(event, failures);
  return { template: subscription.template, locale, channels: results };
}

async function planChannel(
  rule: ChannelRule,
  subscription: Subscription,
  event: CloudEventRecord,
  recipient: Recipient,
  locale: string,
  values: Record<string, string>,
  deps: NotifierDependencies,
): Promise<Planned | undefined> {
  const address =
    rule.channel === "email" ? recipient.email : rule.channel === "sms" ? recipient.phone : deps.senders.webhook?.url;
  const sender: { readonly provider: string } | undefined =
    rule.channel === "email"
      ? deps.senders.email
      : rule.channel === "sms"
        ? deps.senders.sms
        : deps.senders.webhook?.sender;
  const record = async (recipientAddress: string): Promise<SendRecord> => ({
    idempotencyKey: await idempotencyKeyOf({
      source: event.source,
      id: event.id,
      channel: rule.channel,
      recipient: recipientAddress,
    }),
    eventSource: event.source,
    eventId: event.id,
    eventType: event.type,
    channel: rule.channel,
    recipient: recipientAddress,
    template: subscription.template,
    locale,
    provider: sender?.provider ?? null,
  });

  if (rule.channel === "webhook" && !address) return undefined; // no endpoint configured: not a send
  if (!address || !sender) {
    if (rule.when === "if_available") return undefined;
    const reason = SKIP_REASONS[rule.channel];
    const reasonText = !recipient.email && !recipient.phone ? "no_recipient" : reason;
    return { kind: "skip", record: await record(""), reason: reasonText };
  }

  const sendRecord = await record(address);
  const idempotencyKey = sendRecord.idempotencyKey;
  if (rule.channel === "email") {
    const email = deps.catalogue.renderEmail(subscription.template, locale, values);
    const notification: EmailNotification = {
      channel: "email",
      idempotencyKey,
      to: recipient.name ? { email: address, name: recipient.name } : { email: address },
      ...email,
    };
    return { kind: "send", record: sendRecord, send: () => deps.senders.email.send(notification) };
  }
  if (rule.channel === "sms") {
    const notification: SmsNotification = {
      channel: "sms",
      idempotencyKey,
      to: address,
      body: deps.catalogue.renderSms(subscription.template, locale, values),
    };
    return { kind: "send", record: sendRecord, send: () => deps.senders.sms.send(notification) };
  }
  const webhook = deps.senders.webhook;
  if (!webhook) return undefined;
  const notification: WebhookNotification = {
    channel: "webhook",
    idempotencyKey,
    to: address,
    type: event.type,
    timestamp: event.time,
    data: {
      event_id: event.id,
      event_source: event.source,
      citizen_id: recipient.citizenId ?? null,
      template: subscription.template,
      locale,
      data: event.data ?? null,
    },
  };
  return { kind: "send", record: sendRecord, send: () => webhook.sender.send(notification) };
}

async function execute(plan: Planned, log: NotificationLog): Promise<ChannelResult> {
  const channel = plan.record.channel;
  if (plan.kind === "skip") {
    await log.recordSkipped(plan.record, plan.reason);
    return { channel, status: "skipped", reason: plan.reason };
  }
  const reservation = await log.reserve(plan.record);
  if (reservation.state === "done") return { channel, status: "already_sent" };
  if (reservation.state === "busy") {
    const error = new EdgebusError("conflict", `${channel} send is in progress in another delivery`, {
      retryable: true,
      retryAfterSeconds: SEND_LEASE_SECONDS,
    });
    return { channel, status: "failed", error };
  }
  let receipt: SendReceipt;
  try {
    receipt = await plan.send();
  } catch (thrown) {
    const error =
      thrown instanceof EdgebusError ? thrown : new EdgebusError("internal", "send failed", { cause: thrown });
    await log.markFailed(plan.record.idempotencyKey, { code: error.code, message: error.message });
    return { channel, status: "failed", error };
  }
  // The provider accepted the message: from here on it must never be marked `failed` (the
  // redelivery would send it again). A database blip is outlasted by retrying the mark; if the
  // database stays away, the reservation stays `sending` and the redelivery waits for its lease.
  const marked = await markSentPatiently(log, plan.record.idempotencyKey, receipt.providerMessageId);
  if (!marked.ok) {
    const error = new EdgebusError(
      "upstream_unavailable",
      `${channel} was sent but recording it failed; the send stays reserved for ${SEND_LEASE_SECONDS} s`,
      { cause: marked.error, retryable: true, retryAfterSeconds: SEND_LEASE_SECONDS },
    );
    return { channel, status: "failed", error };
  }
  return { channel, status: "sent", providerMessageId: receipt.providerMessageId };
}

/** Waits between attempts to record a completed send (about 7.5 s in all: a database restart). */
export const MARK_SENT_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000];

/** `markSent`, retried over `MARK_SENT_RETRY_DELAYS_MS`; the last error when every attempt failed. */
async function markSentPatiently(
  log: NotificationLog,
  key: string,
  providerMessageId: string,
): Promise<{ ok: true } | { ok: false; error: unknown }> {
  let lastError: unknown;
  for (const delay of [0, ...MARK_SENT_RETRY_DELAYS_MS]) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      await log.markSent(key, providerMessageId);
      return { ok: true };
    } catch (error) {
      lastError = error;
    }
  }
  return { ok: false, error: lastError };
}

function combinedFailure(
  event: CloudEventRecord,
  failures: readonly Extract<ChannelResult, { status: "failed" }>[],
): EdgebusError {
  const retryable = failures.filter((failure) => failure.error.retryable);
  const details = {
    event: { source: event.source, id: event.id, type: event.type },
    failures: failures.map((failure) => ({
      channel: failure.channel,
      code: failure.error.code,
      message: failure.error.message,
      retryable: failure.error.retryable,
      details: failure.error.details,
    })),
  };
  if (failures.length === 1 && failures[0]) {
    const only = failures[0].error;
    return new EdgebusError(only.code, only.message, {
      cause: only,
      details,
      retryable: only.retryable,
      retryAfterSeconds: only.retryAfterSeconds,
    });
  }
  const waits = retryable.map((failure) => failure.error.retryAfterSeconds ?? 0);
  const first = (retryable[0] ?? failures[0])?.error;
  return new EdgebusError(first?.code ?? "internal", `${failures.length} notification channels failed`, {
    details,
    retryable: retryable.length > 0,
    retryAfterSeconds: retryable.length > 0 && Math.max(...waits) > 0 ? Math.max(...waits) : undefined,
  });
}
