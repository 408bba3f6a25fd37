/**
 * Turns one event into its notifications: find the notification rule, resolve the recipient, render
 * every message first (a template problem fails before anything is sent), then for each channel
 * reserve the send in the log, call the provider, and record the result. Planning (`planEvent`)
 * and executing (`executePlan`) are separate steps, so a batch can plan all its events and
 * reserve all their sends in one statement before its first send (`notify-batch.ts`).
 *
 * Channel failures do not stop the other channels: the email that worked stays sent, and the
 * redelivery caused by the failed SMS finds it `sent` and skips it.
 *
 * Two situations are retried rather than settled at once:
 * - the citizen is not in `citizen_refs` yet (citizen-sync is behind): the send waits, retried
 *   with backoff spread over `unknownCitizen.retrySeconds` from the message's enqueue time, then
 *   is skipped (`unknown_citizen`); on the last delivery it is skipped rather than dead-lettered;
 * - the provider call ended without an answer (timeout, dropped connection): the send is
 *   `unknown`, never `failed`. After `unknownOutcome.visibilitySeconds` a redelivery asks the
 *   provider (its `lookup`) and sends again only if it has no record; without a lookup,
 *   `unknownOutcome.policy` sends again (`resend`) or records the send as given up (`give_up`).
 *   Webhooks carry their idempotency key in `webhook-id`, which receivers deduplicate on, so an
 *   unknown webhook is simply sent again.
 */
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError, toEdgebusError } from "#shared/errors.ts";
import { formatVariables } from "./event-variables.ts";
import { idempotencyKeyOf } from "./idempotency-key.ts";
import type {
  Channel,
  EmailNotification,
  Notification,
  SendReceipt,
  SmsNotification,
  WebhookNotification,
} from "./notification.ts";
import { type NotificationLog, type Reconciliation, SEND_LEASE_SECONDS, type SendRecord } from "./notification-log.ts";
import type { ChannelRule, NotificationRule } from "./notification-rule.ts";
import { notificationRuleFor } from "./notification-rules.ts";
import { isUnknownOutcome } from "./provider-error.ts";
import type { PushSubscriptionStore } from "./push-subscriptions.ts";
import type { QueuedTemplateCatalogue } from "./queued-template-catalogue.ts";
import { type CitizenDirectory, type Recipient, resolveRecipient } from "./recipient.ts";
import type { LookupResult, Sender } from "./sender.ts";
import type { TemplateCatalogue } from "./template-catalogue.ts";
import { isGoneSubscription } from "./web-push-sender.ts";

export interface NotifierSenders {
  readonly email: Sender<"email">;
  readonly sms: Sender<"sms">;
  /** Absent when no webhook endpoint is configured. */
  readonly webhook?: { readonly sender: Sender<"webhook">; readonly url: string };
  /** Absent when no VAPID key pair is configured (push notifications are then skipped). */
  readonly push?: Sender<"push">;
}

/** What to do when a provider call ends without an answer (see the module comment). */
export interface UnknownOutcomeSettings {
  /** Seconds before the provider is asked (its records lag) or the send is repeated. */
  readonly visibilitySeconds: number;
  /** For a channel without a lookup: send again after the window, or record and give up. */
  readonly policy: "resend" | "give_up";
}

export const DEFAULT_UNKNOWN_OUTCOME: UnknownOutcomeSettings = { visibilitySeconds: 300, policy: "resend" };
export const DEFAULT_UNKNOWN_CITIZEN_RETRY_SECONDS = 900;

export interface NotifierDependencies {
  readonly catalogue: TemplateCatalogue;
  readonly directory: CitizenDirectory;
  readonly log: NotificationLog;
  readonly senders: NotifierSenders;
  /** IANA time zone for times in messages. */
  readonly timeZone: string;
  /** Default `DEFAULT_UNKNOWN_OUTCOME`. */
  readonly unknownOutcome?: UnknownOutcomeSettings;
  /** How long a send waits for a citizen `citizen_refs` does not know yet; default 900 s. */
  readonly unknownCitizenRetrySeconds?: number;
  /** Templates of `gov.notification.*.queued` (`queued-templates.ts`); needed for those types only. */
  readonly queuedTemplates?: QueuedTemplateCatalogue;
  /** Citizens' Web Push subscriptions; needed for `gov.notification.push.queued` only. */
  readonly pushSubscriptions?: PushSubscriptionStore;
  /**
   * Provider calls at once (`providerSlots`): a send takes its slot before its send is reserved
   * and gives it back once the provider answered, before its outcome is recorded. Without it
   * calls are not limited here (the senders may limit themselves).
   */
  readonly providerSlots?: ProviderSlots;
}

/** Slots for provider calls: `take` resolves once a slot is free, with the function that frees it. */
export interface ProviderSlots {
  take(): Promise<() => void>;
}

/**
 * `slots` provider calls at once, handed out in the order they were asked for. Taken by `execute`
 * before a send is reserved, so the wait for a slot is never part of a reservation's age: a
 * reservation handed out still has the whole provider call and its sent mark inside its lease.
 */
export function providerSlots(slots: number): ProviderSlots {
  let free = slots;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    take() {
      let released = false;
      const once = () => {
        if (released) return;
        released = true;
        release();
      };
      if (free > 0) {
        free--;
        return Promise.resolve(once);
      }
      return new Promise((resolve) => waiting.push(() => resolve(once)));
    },
  };
}

/** Which delivery of the queue message this is; decides how long an unknown citizen may still wait. */
export interface Delivery {
  /** When the message was first enqueued (`message.timestamp`; kept across retries). */
  readonly enqueuedAt: Date;
  /** 1 on the first delivery. */
  readonly attempts: number;
  /** The queue's `max_retries`: delivery `maxRetries + 1` is the last. */
  readonly maxRetries: number;
  readonly now?: Date;
}

export type ChannelResult =
  | {
      readonly channel: Channel;
      readonly status: "sent";
      readonly providerMessageId: string;
      /** Set when an earlier attempt's outcome was unknown. */
      readonly reconciliation?: Reconciliation;
    }
  | { readonly channel: Channel; readonly status: "already_sent" }
  | { readonly channel: Channel; readonly status: "skipped"; readonly reason: string }
  /** The outcome is unknown and, by policy, will not be checked or repeated. */
  | { readonly channel: Channel; readonly status: "given_up" }
  /** Not settled yet (an unknown outcome, a citizen not synced yet): retry after `error.retryAfterSeconds`. */
  | { readonly channel: Channel; readonly status: "pending"; readonly error: EdgebusError }
  | { readonly channel: Channel; readonly status: "failed"; readonly error: EdgebusError };

export interface NotifyResult {
  /** Undefined when no notification rule matches the event type (nothing to do). */
  readonly template: string | undefined;
  readonly locale: string | undefined;
  readonly channels: readonly ChannelResult[];
}

/** Why a channel the notification rule requires was not sent; `no_recipient` when nothing is known at all. */
const SKIP_REASONS: Readonly<Record<Channel, string>> = {
  email: "no_email_address",
  sms: "no_phone_number",
  webhook: "no_webhook_endpoint",
  push: "no_push_subscription",
};

/** A push subscription its push service said is gone (404/410): deleted, the send recorded as failed. */
export const PUSH_SUBSCRIPTION_GONE = "push_subscription_gone";

/** One send of one event, decided before any provider is called (`execute` carries it out). */
export type Planned =
  | {
      kind: "send";
      record: SendRecord;
      send: () => Promise<SendReceipt>;
      /** The provider's records, when the deployment can ask them. */
      lookup: ((since: Date) => Promise<LookupResult>) | undefined;
      /** Push: the subscription is gone (404/410): delete it. */
      onGone?: () => Promise<unknown>;
    }
  | { kind: "skip"; record: SendRecord; reason: string }
  /** No address yet because the directory does not know the citizen yet. */
  | { kind: "await_citizen"; record: SendRecord };

/** A skipped send that waited in vain for the citizen to reach `citizen_refs`. */
export const UNKNOWN_CITIZEN = "unknown_citizen";

/**
 * What one event will send, decided before anything is sent: its notification rule's template
 * and locale, and a plan per channel (`execute` carries each out). Undefined template: no
 * notification rule matches the event type (nothing to do).
 */
export interface EventPlan {
  readonly template: string | undefined;
  readonly locale: string | undefined;
  readonly planned: readonly Planned[];
  /**
   * Formats the event's variables and renders every message the plan sends; throws what planning
   * would have thrown (a missing variable, a template problem). `executePlan` calls it before the
   * event's first send, so a batch's planning holds only records and keys, not rendered texts.
   */
  readonly render?: () => void;
}

/**
 * Sends the notifications of one event. Resolves when every channel is sent, already sent,
 * skipped or given up; rejects with an `EdgebusError` when a channel failed or is not settled yet
 * (`pending`) — `retryable` (with the longest `retryAfterSeconds` asked for) if any of them may
 * pass, otherwise permanent. `delivery` says which delivery of the queue message this is.
 */
export async function notifyEvent(
  event: CloudEventRecord,
  deps: NotifierDependencies,
  delivery: Delivery = { enqueuedAt: new Date(), attempts: 1, maxRetries: Number.MAX_SAFE_INTEGER },
): Promise<NotifyResult> {
  return executePlan(event, await planEvent(event, deps), deps, delivery);
}

/**
 * The planning half of `notifyEvent`: notification rule, recipient, locale, and each send's
 * record with its idempotency key. Nothing is written and nothing sent, so a batch can plan all
 * its events first and reserve all their sends at once (`notify-batch.ts`). The variables and
 * messages are rendered by the plan's `render`, which `executePlan` runs before the event's
 * first send (a template problem still fails before anything of the event is sent).
 */
export async function planEvent(event: CloudEventRecord, deps: NotifierDependencies): Promise<EventPlan> {
  const notificationRule = notificationRuleFor(event.type);
  if (!notificationRule) return { template: undefined, locale: undefined, planned: [] };

  // Contacts carried in the event count only when the producer stamped that the publishing key
  // holds notify:direct-contact (a caller cannot send the stamp: the producer refuses it).
  const recipient = await resolveRecipient(notificationRule, event.data, deps.directory, {
    directContact: event.edgebusdirectcontact === true,
  });
  const locale = deps.catalogue.chooseLocale(recipient.preferredLanguage);
  let values: Record<string, string> | undefined;
  const valuesOf = (): Record<string, string> => {
    values ??= {
      ...formatVariables(notificationRule.variables, event.data, {
        locale,
        timeZone: deps.timeZone,
        catalogue: deps.catalogue,
      }),
      name: recipient.name ?? "",
      greeting: deps.catalogue.greeting(locale, recipient.name),
    };
    return values;
  };

  const planned: Planned[] = [];
  const renders: (() => unknown)[] = [];
  for (const rule of notificationRule.channels) {
    const plan = planChannel(rule, notificationRule, event, recipient, locale, valuesOf, renders, deps);
    if (plan) planned.push(plan);
  }
  // The variables are formatted even when nothing is sent: a rule the event's data does not
  // satisfy fails the event either way, as when every message was rendered while planning.
  const render = () => {
    valuesOf();
    for (const rendered of renders) rendered();
  };
  return { template: notificationRule.template, locale, planned, render };
}

/** The executing half of `notifyEvent`: carries out a plan made by `planEvent` (or `planQueued`). */
export async function executePlan(
  event: CloudEventRecord,
  plan: EventPlan,
  deps: NotifierDependencies,
  delivery: Delivery,
): Promise<NotifyResult> {
  if (plan.template === undefined) return { template: undefined, locale: undefined, channels: [] };
  plan.render?.();
  const results = await executeAll(event, plan.planned, deps, delivery);
  return { template: plan.template, locale: plan.locale, channels: results };
}

/** Carries out every plan in order; throws one error for all that failed or wait (`combinedFailure`). */
export async function executeAll(
  event: CloudEventRecord,
  planned: readonly Planned[],
  deps: NotifierDependencies,
  delivery: Delivery,
): Promise<ChannelResult[]> {
  const results: ChannelResult[] = [];
  for (const plan of planned) results.push(await execute(plan, deps, delivery));
  const failures = results.filter(
    (result): result is Extract<ChannelResult, { status: "failed" | "pending" }> =>
      result.status === "failed" || result.status === "pending",
  );
  if (failures.length > 0) throw combinedFailure(event, failures);
  return results;
}

/** A send through `sender`, with its lookup of the provider's records when it has one. */
export function sendPlan<C extends Channel>(
  record: SendRecord,
  sender: Sender<C>,
  notification: Extract<Notification, { channel: C }>,
): Planned {
  const lookup = sender.lookup;
  return {
    kind: "send",
    record,
    send: () => sender.send(notification),
    lookup: lookup && ((since) => lookup(notification, since)),
  };
}

/** `sendPlan` with a notification built on first use (`message`: memoised by the caller). */
function lazySendPlan<C extends Channel>(
  record: SendRecord,
  sender: Sender<C>,
  message: () => Extract<Notification, { channel: C }>,
): Planned {
  const lookup = sender.lookup;
  return {
    kind: "send",
    record,
    send: () => sender.send(message()),
    lookup: lookup && ((since) => lookup(message(), since)),
  };
}

function planChannel(
  rule: ChannelRule,
  notificationRule: NotificationRule,
  event: CloudEventRecord,
  recipient: Recipient,
  locale: string,
  values: () => Record<string, string>,
  renders: (() => unknown)[],
  deps: NotifierDependencies,
): Planned | undefined {
  const address =
    rule.channel === "email" ? recipient.email : rule.channel === "sms" ? recipient.phone : deps.senders.webhook?.url;
  const sender: { readonly provider: string } | undefined =
    rule.channel === "email"
      ? deps.senders.email
      : rule.channel === "sms"
        ? deps.senders.sms
        : deps.senders.webhook?.sender;
  const record = (recipientAddress: string): SendRecord => ({
    idempotencyKey: idempotencyKeyOf({
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
    template: notificationRule.template,
    locale,
    provider: sender?.provider ?? null,
  });

  if (rule.channel === "webhook" && !address) return undefined; // no endpoint configured: not a send
  if (!address || !sender) {
    if (rule.when === "if_available") return undefined;
    // The address may still come: citizen-sync has not applied the citizen's `created` yet.
    if (recipient.citizenUnknown && sender) return { kind: "await_citizen", record: record("") };
    const reason = SKIP_REASONS[rule.channel];
    const reasonText = !recipient.email && !recipient.phone ? "no_recipient" : reason;
    return { kind: "skip", record: record(""), reason: reasonText };
  }

  const sendRecord = record(address);
  const idempotencyKey = sendRecord.idempotencyKey;
  if (rule.channel === "email") {
    let notification: EmailNotification | undefined;
    const message = (): EmailNotification => {
      notification ??= {
        channel: "email",
        idempotencyKey,
        to: recipient.name ? { email: address, name: recipient.name } : { email: address },
        ...deps.catalogue.renderEmail(notificationRule.template, locale, values()),
      };
      return notification;
    };
    renders.push(message);
    return lazySendPlan(sendRecord, deps.senders.email, message);
  }
  if (rule.channel === "sms") {
    let notification: SmsNotification | undefined;
    const message = (): SmsNotification => {
      notification ??= {
        channel: "sms",
        idempotencyKey,
        to: address,
        body: deps.catalogue.renderSms(notificationRule.template, locale, values()),
      };
      return notification;
    };
    renders.push(message);
    return lazySendPlan(sendRecord, deps.senders.sms, message);
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
      template: notificationRule.template,
      locale,
      data: event.data ?? null,
    },
  };
  return { kind: "send", record: sendRecord, send: () => webhook.sender.send(notification), lookup: undefined };
}

export async function execute(plan: Planned, deps: NotifierDependencies, delivery: Delivery): Promise<ChannelResult> {
  const { log } = deps;
  const channel = plan.record.channel;
  if (plan.kind === "skip") {
    await log.recordSkipped(plan.record, plan.reason);
    return { channel, status: "skipped", reason: plan.reason };
  }
  if (plan.kind === "await_citizen") return awaitCitizen(plan.record, deps, delivery);
  // The slot first: the reservation below is handed out only when its provider call can start.
  const release = deps.providerSlots ? await deps.providerSlots.take() : () => {};
  try {
    return await executeSend(plan, deps, release);
  } finally {
    release();
  }
}

/** A send of `execute`, in its provider slot; `release` frees the slot once the provider answered. */
async function executeSend(
  plan: Extract<Planned, { kind: "send" }>,
  deps: NotifierDependencies,
  release: () => void,
): Promise<ChannelResult> {
  const { log } = deps;
  const channel = plan.record.channel;
  const unknownOutcome = deps.unknownOutcome ?? DEFAULT_UNKNOWN_OUTCOME;
  // Webhook receivers deduplicate on webhook-id: repeating one is safe, so no window to wait out.
  const idempotent = channel === "webhook";
  const visibilitySeconds = idempotent ? 0 : unknownOutcome.visibilitySeconds;
  const reservation = await log.reserve(plan.record, { visibilitySeconds });
  if (reservation.state === "done") return { channel, status: "already_sent" };
  if (reservation.state === "busy") {
    const error = new EdgebusError("conflict", `${channel} send is in progress in another delivery`, {
      retryable: true,
      retryAfterSeconds: reservation.retryAfterSeconds,
    });
    return { channel, status: "failed", error };
  }
  if (reservation.state === "wait") {
    return pending(
      channel,
      "upstream_unavailable",
      `${channel}: an earlier attempt's outcome is unknown; the provider is asked once its records can show it`,
      reservation.retryAfterSeconds,
    );
  }

  let reconciliation: Reconciliation | undefined;
  if (reservation.state === "reconcile") {
    if (plan.lookup !== undefined) {
      let found: LookupResult;
      try {
        found = await plan.lookup(reservation.since);
      } catch (thrown) {
        const error = toEdgebusError(thrown);
        await log.releaseUnknown(plan.record.idempotencyKey, { code: error.code, message: error.message });
        return {
          channel,
          status: "failed",
          error: new EdgebusError(
            error.code,
            `${channel}: asking the provider about an unknown outcome failed: ${error.message}`,
            {
              cause: error,
              retryable: true,
              retryAfterSeconds: error.retryAfterSeconds,
              details: error.details,
            },
          ),
        };
      }
      if (found.found) {
        const marked = await markSentPatiently(log, plan.record.idempotencyKey, found.providerMessageId, "found");
        if (!marked.ok) return sentButNotRecorded(channel, marked.error);
        return { channel, status: "sent", providerMessageId: found.providerMessageId, reconciliation: "found" };
      }
      reconciliation = "not_found";
    } else if (idempotent || unknownOutcome.policy === "resend") {
      reconciliation = "resent";
    } else {
      await log.markGivenUp(plan.record.idempotencyKey);
      return { channel, status: "given_up" };
    }
  }

  let receipt: SendReceipt;
  try {
    receipt = await plan.send();
    release();
  } catch (thrown) {
    release();
    const error =
      thrown instanceof EdgebusError ? thrown : new EdgebusError("internal", "send failed", { cause: thrown });
    if (plan.onGone !== undefined && isGoneSubscription(error)) {
      // Nothing was delivered and never can be: record why, forget the subscription, carry on
      // with the citizen's other devices (the event is not failed for it).
      await recordPatiently(() =>
        log.markFailed(plan.record.idempotencyKey, { code: error.code, message: error.message }),
      );
      await plan.onGone();
      return { channel, status: "skipped", reason: PUSH_SUBSCRIPTION_GONE };
    }
    if (isUnknownOutcome(error) && !idempotent) {
      if (plan.lookup === undefined && unknownOutcome.policy === "give_up") {
        await recordPatiently(() => log.markGivenUp(plan.record.idempotencyKey));
        return { channel, status: "given_up" };
      }
      await recordPatiently(() =>
        log.markUnknown(
          plan.record.idempotencyKey,
          { code: error.code, message: error.message },
          { visibilitySeconds },
        ),
      );
      return pending(
        channel,
        "upstream_unavailable",
        `${channel}: ${error.message}; the provider may have accepted it, so it is checked after ${visibilitySeconds} s before any new attempt`,
        visibilitySeconds,
        error,
      );
    }
    await recordPatiently(() =>
      log.markFailed(plan.record.idempotencyKey, { code: error.code, message: error.message }),
    );
    return { channel, status: "failed", error };
  }
  // The provider accepted the message: from here on it must never be marked `failed` (the
  // redelivery would send it again). A database blip is outlasted by retrying the mark; if the
  // database stays away, the reservation stays `sending`, and once its lease expired a
  // redelivery treats it as an unknown outcome (checked with the provider, not sent blindly).
  const marked = await markSentPatiently(log, plan.record.idempotencyKey, receipt.providerMessageId, reconciliation);
  if (!marked.ok) return sentButNotRecorded(channel, marked.error);
  return {
    channel,
    status: "sent",
    providerMessageId: receipt.providerMessageId,
    ...(reconciliation === undefined ? {} : { reconciliation }),
  };
}

function sentButNotRecorded(channel: Channel, cause: unknown): ChannelResult {
  const error = new EdgebusError(
    "upstream_unavailable",
    `${channel} was sent but recording it failed; the send stays reserved for ${SEND_LEASE_SECONDS} s`,
    { cause, retryable: true, retryAfterSeconds: SEND_LEASE_SECONDS },
  );
  return { channel, status: "failed", error };
}

function pending(
  channel: Channel,
  code: "upstream_unavailable" | "conflict",
  message: string,
  retryAfterSeconds: number,
  cause?: unknown,
): ChannelResult {
  return {
    channel,
    status: "pending",
    error: new EdgebusError(code, message, {
      cause,
      retryable: true,
      retryAfterSeconds: Math.max(1, retryAfterSeconds),
    }),
  };
}

/**
 * A send whose citizen `citizen_refs` does not know yet: retried while the window (from the
 * message's enqueue time) lasts, with delays growing so the remaining deliveries span what is
 * left of it; skipped (`unknown_citizen`) once it has passed or on the last delivery.
 */
async function awaitCitizen(
  record: SendRecord,
  deps: NotifierDependencies,
  delivery: Delivery,
): Promise<ChannelResult> {
  const windowSeconds = deps.unknownCitizenRetrySeconds ?? DEFAULT_UNKNOWN_CITIZEN_RETRY_SECONDS;
  const now = delivery.now ?? new Date();
  const remaining = windowSeconds - (now.getTime() - delivery.enqueuedAt.getTime()) / 1000;
  const deliveriesLeft = delivery.maxRetries + 1 - delivery.attempts;
  if (remaining <= 0 || deliveriesLeft <= 0) {
    await deps.log.recordSkipped(record, UNKNOWN_CITIZEN);
    return { channel: record.channel, status: "skipped", reason: UNKNOWN_CITIZEN };
  }
  // Doubling delays over the deliveries left add up to what remains of the window.
  const slots = 2 ** Math.min(deliveriesLeft, 30) - 1;
  const delay = Math.min(Math.ceil(remaining), Math.max(1, Math.ceil(remaining / slots)));
  return pending(
    record.channel,
    "conflict",
    `${record.channel}: the citizen is not in citizen_refs yet (citizen-sync behind?); waiting up to ${windowSeconds} s`,
    delay,
  );
}

/**
 * Waits between attempts to record the outcome of a provider call (about 7.5 s in all: a database
 * restart). Whatever the provider said must reach the ledger: a `sending` row left behind counts
 * as an unknown outcome, settled only after the visibility window.
 */
export const MARK_SENT_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000];

/** `mark`, retried over `MARK_SENT_RETRY_DELAYS_MS`; the last error when every attempt failed. */
async function patiently(mark: () => Promise<void>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  let lastError: unknown;
  for (const delay of [0, ...MARK_SENT_RETRY_DELAYS_MS]) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      await mark();
      return { ok: true };
    } catch (error) {
      lastError = error;
    }
  }
  return { ok: false, error: lastError };
}

function markSentPatiently(
  log: NotificationLog,
  key: string,
  providerMessageId: string,
  reconciliation?: Reconciliation,
): Promise<{ ok: true } | { ok: false; error: unknown }> {
  return patiently(() => log.markSent(key, providerMessageId, reconciliation));
}

/** Records the outcome of a call that was not accepted (or not known to be); throws the last error. */
async function recordPatiently(mark: () => Promise<void>): Promise<void> {
  const recorded = await patiently(mark);
  if (!recorded.ok) throw recorded.error;
}

export function combinedFailure(
  event: CloudEventRecord,
  failures: readonly Extract<ChannelResult, { status: "failed" | "pending" }>[],
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
