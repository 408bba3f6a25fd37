/**
 * Delivers the catalogue's queued notifications: `gov.notification.email.queued`,
 * `gov.notification.sms.queued` and `gov.notification.push.queued`. A service publishes the
 * message it wants sent — a `template`, its `template_data`, a `locale` and a `priority` — and
 * the notifier renders and sends it with the same ledger, idempotency, retries, dead letters and
 * unknown-outcome handling as the notification rules' sends (`notify-event.ts`).
 *
 * Recipient:
 * - email and SMS: the event's `to` when the producer stamped that the publishing key holds
 *   `notify:direct-contact`; otherwise the contact of `citizen_id` in the citizen directory
 *   (`permits.citizen_refs`: identity events have no replica of their own and citizen-sync keeps
 *   this one with the same data). Without the scope and without a citizen the send is skipped
 *   (`to_needs_direct_contact`); a citizen the directory does not know yet is waited for like the
 *   rules' (then `unknown_citizen`); one without that address or deleted is skipped
 *   (`no_email_address`, `no_phone_number`, `citizen_deleted`);
 * - push: every Web Push subscription of `citizen_id` (`edgebus.push_subscriptions`), one send
 *   per device; none: skipped (`no_push_subscription`); no VAPID keys configured: skipped
 *   (`push_not_configured`). A push service answering 404/410 gets the subscription deleted.
 *
 * What is sent is the template's rendering (`queued-templates.ts`) in `locale`; the event's
 * `subject` (email) and `title`/`body` (push) are the publisher's own text, kept with the event
 * in the archive and on its topic, not sent. `priority`: `high` messages of a batch are sent
 * first and `low` ones last; email carries it as `Importance`/`X-Priority` headers, push as the
 * `Urgency` header (SMS has no priority at Twilio).
 */
import { z } from "zod";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError } from "#shared/errors.ts";
import { idempotencyKeyOf } from "./idempotency-key.ts";
import type { Priority, PushNotification } from "./notification.ts";
import type { SendRecord } from "./notification-log.ts";
import {
  type Delivery,
  type EventPlan,
  executePlan,
  type NotifierDependencies,
  type NotifyResult,
  type Planned,
  sendPlan,
} from "./notify-event.ts";
import type { QueuedChannel, QueuedTemplateCatalogue } from "./queued-template-catalogue.ts";
import type { CitizenContact } from "./recipient.ts";

export const QUEUED_TYPES: Readonly<Record<string, QueuedChannel>> = {
  "gov.notification.email.queued": "email",
  "gov.notification.sms.queued": "sms",
  "gov.notification.push.queued": "push",
};

export function isQueuedNotification(type: string): boolean {
  return Object.hasOwn(QUEUED_TYPES, type);
}

/** Skip reasons of queued notifications beyond the rules' (`no_email_address`, …). */
export const QUEUED_SKIP_REASONS = {
  toNeedsDirectContact: "to_needs_direct_contact",
  citizenDeleted: "citizen_deleted",
  pushNotConfigured: "push_not_configured",
} as const;

/** What the notifier reads of a queued event (the catalogue validated it at publish time). */
const queuedData = z.object({
  notification_id: z.string().min(1),
  citizen_id: z.number().int().positive().nullable(),
  template: z.string().min(1),
  template_data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  locale: z.string().min(1),
  priority: z.enum(["low", "normal", "high"]),
  to: z.string().min(1).optional(),
  deep_link: z.string().nullable().optional(),
});
type QueuedData = z.infer<typeof queuedData>;

/** The priority of a queued event's body, `normal` for anything else (used to order a batch). */
export function priorityOf(body: unknown): Priority {
  const event = body as { type?: unknown; data?: { priority?: unknown } } | null;
  if (typeof event?.type !== "string" || !isQueuedNotification(event.type)) return "normal";
  const priority = event.data?.priority;
  return priority === "high" || priority === "low" ? priority : "normal";
}

const PRIORITY_RANK: Readonly<Record<Priority, number>> = { high: 0, normal: 1, low: 2 };

/** The order to handle a batch's messages in: high-priority queued notifications first, low ones last, otherwise as they came. */
export function priorityOrder(bodies: readonly unknown[]): number[] {
  return bodies
    .map((body, index) => ({ index, rank: PRIORITY_RANK[priorityOf(body)] }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ index }) => index);
}

/** `template_data` as template values: numbers in the locale's format, `true` → "yes", `false` → "". */
function templateValues(data: QueuedData, formatLocale: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(data.template_data)) {
    values[key] =
      typeof value === "number"
        ? new Intl.NumberFormat(formatLocale).format(value)
        : typeof value === "boolean"
          ? value
            ? "yes"
            : ""
          : value;
  }
  return values;
}

export async function notifyQueued(
  event: CloudEventRecord,
  deps: NotifierDependencies,
  delivery: Delivery,
): Promise<NotifyResult> {
  return executePlan(event, await planQueued(event, deps), deps, delivery);
}

/** The planning half of `notifyQueued` (as `planEvent` is of `notifyEvent`): nothing written, nothing sent. */
export async function planQueued(event: CloudEventRecord, deps: NotifierDependencies): Promise<EventPlan> {
  const channel = QUEUED_TYPES[event.type];
  if (channel === undefined) return { template: undefined, locale: undefined, planned: [] };
  const templates = deps.queuedTemplates;
  if (!templates) throw new EdgebusError("internal", "the notifier was started without its queued templates");
  const parsed = queuedData.safeParse(event.data);
  if (!parsed.success) {
    throw new EdgebusError("schema_validation_failed", `${event.type} data is not a queued notification`, {
      retryable: false,
      details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })) },
    });
  }
  const data = parsed.data;
  const locale = deps.catalogue.chooseLocale(data.locale);
  // Template problems are the publisher's and permanent: found before anything else happens.
  templates.check(data.template, channel, locale, Object.keys(data.template_data));

  const record = (recipient: string, provider: string | null): SendRecord => ({
    idempotencyKey: idempotencyKeyOf({ source: event.source, id: event.id, channel, recipient }),
    eventSource: event.source,
    eventId: event.id,
    eventType: event.type,
    channel,
    recipient,
    template: data.template,
    locale,
    provider,
  });

  const entry = data.citizen_id === null ? undefined : await deps.directory.find("permits", data.citizen_id);
  const contact: CitizenContact | undefined = entry?.state === "known" ? entry.contact : undefined;
  const values = {
    name: contact?.name ?? "",
    greeting: deps.catalogue.greeting(locale, contact?.name ?? undefined),
    ...templateValues(data, deps.catalogue.formatLocale(locale)),
  };

  const context: PlanContext = { data, values, locale, templates, deps, record };
  const planned: Planned[] = [];
  if (channel === "push") {
    planned.push(...(await planPush(context)));
  } else {
    const direct = event.edgebusdirectcontact === true;
    const provider = channel === "email" ? deps.senders.email.provider : deps.senders.sms.provider;
    const address = direct
      ? data.to
      : channel === "email"
        ? (contact?.email ?? undefined)
        : (contact?.phone ?? undefined);
    if (address) {
      planned.push(planMessage(channel, address, contact?.name ?? undefined, context));
    } else if (!direct && data.citizen_id === null) {
      planned.push({
        kind: "skip",
        record: record("", provider),
        reason: QUEUED_SKIP_REASONS.toNeedsDirectContact,
      });
    } else if (entry?.state === "unknown") {
      planned.push({ kind: "await_citizen", record: record("", provider) });
    } else {
      const reason =
        entry?.state === "deleted"
          ? QUEUED_SKIP_REASONS.citizenDeleted
          : channel === "email"
            ? "no_email_address"
            : "no_phone_number";
      planned.push({ kind: "skip", record: record("", provider), reason });
    }
  }
  return { template: data.template, locale, planned };
}

/** What planning one queued notification's sends needs. */
interface PlanContext {
  readonly data: QueuedData;
  readonly values: Record<string, string>;
  readonly locale: string;
  readonly templates: QueuedTemplateCatalogue;
  readonly deps: NotifierDependencies;
  readonly record: (recipient: string, provider: string | null) => SendRecord;
}

function planMessage(
  channel: "email" | "sms",
  address: string,
  name: string | undefined,
  { data, values, locale, templates, deps, record }: PlanContext,
): Planned {
  if (channel === "email") {
    const sender = deps.senders.email;
    const sendRecord = record(address, sender.provider);
    const notification = {
      channel: "email" as const,
      idempotencyKey: sendRecord.idempotencyKey,
      to: name ? { email: address, name } : { email: address },
      ...templates.renderEmail(data.template, locale, values),
      priority: data.priority,
    };
    return sendPlan(sendRecord, sender, notification);
  }
  const sender = deps.senders.sms;
  const sendRecord = record(address, sender.provider);
  const notification = {
    channel: "sms" as const,
    idempotencyKey: sendRecord.idempotencyKey,
    to: address,
    body: templates.renderSms(data.template, locale, values),
  };
  return sendPlan(sendRecord, sender, notification);
}

async function planPush({ data, values, locale, templates, deps, record }: PlanContext): Promise<Planned[]> {
  const sender = deps.senders.push;
  const store = deps.pushSubscriptions;
  if (!sender || !store || data.citizen_id === null) {
    const reason = !sender || !store ? QUEUED_SKIP_REASONS.pushNotConfigured : "no_push_subscription";
    return [{ kind: "skip", record: record("", sender?.provider ?? null), reason }];
  }
  const subscriptions = await store.forCitizen(data.citizen_id);
  if (subscriptions.length === 0) {
    return [{ kind: "skip", record: record("", sender.provider), reason: "no_push_subscription" }];
  }
  const rendered = templates.renderPush(data.template, locale, values);
  const plans: Planned[] = [];
  for (const subscription of subscriptions) {
    const sendRecord = record(subscription.endpoint, sender.provider);
    const notification: PushNotification = {
      channel: "push",
      idempotencyKey: sendRecord.idempotencyKey,
      to: subscription.endpoint,
      keys: { p256dh: subscription.p256dh, auth: subscription.auth },
      payload: {
        ...rendered,
        url: data.deep_link ?? null,
        notification_id: data.notification_id,
        locale,
        priority: data.priority,
      },
      priority: data.priority,
    };
    plans.push({
      kind: "send",
      record: sendRecord,
      send: () => sender.send(notification),
      lookup: undefined,
      onGone: () => store.remove(subscription.endpoint),
    });
  }
  return plans;
}
