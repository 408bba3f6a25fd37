/**
 * Notification domain: messages a service queues for delivery by a channel (email, SMS, push);
 * routed to the notifier (docs/notifications.md). The notifier renders `template` — a template
 * of its own, `workers/notifier/src/notify/queued-templates.ts` — with `template_data` in
 * `locale` (its language: `fr-BE` → `fr`; unsupported → `en`); a template it does not have, or a
 * variable `template_data` lacks, dead-letters the event. `priority` orders the notifier's batch
 * and becomes the email's `Importance` and the push's `Urgency`. The recipient: `to` only when
 * the publishing key holds `notify:direct-contact`, else the directory contact of `citizen_id`;
 * push goes to every push subscription registered for `citizen_id`. `subject`, `title` and `body`
 * are the publisher's own text, kept in the archive and on the topic but not what is sent.
 * `source_event_id` ties a message to the event that caused it.
 */
import { z } from "zod";
import { defineEvent } from "#shared/catalogue/define-event.ts";
import type { DomainCatalogue } from "#shared/catalogue/types.ts";
import { citizenId, email, languageTag, phone, timestamp } from "./fields.ts";

const snakeCase = /^[a-z][a-z0-9_]{0,63}$/;
const templateName = z
  .string()
  .regex(snakeCase, "must be a snake_case template name")
  .describe("Template name (snake_case)");
/** Flat values only: templates interpolate strings, and nested data hides mistakes. */
const templateData = z.record(
  z.string().regex(snakeCase, "must be a snake_case key"),
  z.union([z.string().max(2000), z.number(), z.boolean()]),
);
const priority = z.enum(["low", "normal", "high"]);

const common = {
  notification_id: z.uuid(),
  citizen_id: citizenId.nullable().describe("Recipient citizen, when the recipient is one"),
  template: templateName,
  template_data: templateData,
  locale: languageTag,
  priority,
  source_event_id: z.string().min(1).max(256).nullable(),
  queued_at: timestamp,
};

export const emailQueued = z.strictObject({
  ...common,
  to: email,
  subject: z.string().min(1).max(200),
});

export const smsQueued = z.strictObject({
  ...common,
  to: phone,
});

export const pushQueued = z.strictObject({
  ...common,
  citizen_id: citizenId,
  title: z.string().min(1).max(100),
  body: z.string().min(1).max(500),
  deep_link: z
    .string()
    .regex(/^\/[A-Za-z0-9/_.-]{0,255}$/, "must be an in-app path starting with /")
    .nullable()
    .describe("In-app path to open"),
});

export const notificationCatalogue: DomainCatalogue = {
  domain: "notification",
  topics: [
    { name: "gov.notification.email", partitions: 6 },
    { name: "gov.notification.sms", partitions: 3 },
    { name: "gov.notification.push", partitions: 3 },
  ],
  events: [
    defineEvent({
      type: "gov.notification.email.queued",
      version: 1,
      description: "An email is waiting to be sent.",
      data: emailQueued,
      entityIdField: "notification_id",
      example: {
        notification_id: "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        citizen_id: 104233,
        template: "permit_approved",
        template_data: { permit_number: "PRM-2026-004512", valid_until: "2027-06-30" },
        locale: "en",
        priority: "normal",
        source_event_id: "evt-2d9b6c1e",
        queued_at: "2026-06-20T15:30:02Z",
        to: "amina@haddad.ie",
        subject: "Your permit PRM-2026-004512 was approved",
      },
    }),
    defineEvent({
      type: "gov.notification.sms.queued",
      version: 1,
      description: "A text message is waiting to be sent.",
      data: smsQueued,
      entityIdField: "notification_id",
      example: {
        notification_id: "6ba7b810-9dad-41d1-80b4-00c04fd430c8",
        citizen_id: 104233,
        template: "inspection_reminder",
        template_data: { date: "2026-08-12", time: "09:30" },
        locale: "en",
        priority: "high",
        source_event_id: "evt-77aa01f3",
        queued_at: "2026-08-11T09:30:00+01:00",
        to: "+35312345678",
      },
    }),
    defineEvent({
      type: "gov.notification.push.queued",
      version: 1,
      description: "A push notification is waiting to be sent to the citizen's devices.",
      data: pushQueued,
      entityIdField: "notification_id",
      example: {
        notification_id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        citizen_id: 118020,
        template: "payment_failed",
        template_data: { amount: "84.50 EUR" },
        locale: "en",
        priority: "high",
        source_event_id: null,
        queued_at: "2026-06-04T18:02:12Z",
        title: "Payment failed",
        body: "Your property tax payment of 84.50 EUR was declined.",
        deep_link: "/payments/PAY-2026-00031902",
      },
    }),
  ],
};
