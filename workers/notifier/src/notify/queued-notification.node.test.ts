/**
 * Queued notifications (`gov.notification.{email,sms,push}.queued`) through the real path: the
 * Postgres ledger, directory and push subscriptions, the real SendGrid, Twilio and Web Push
 * senders against the local provider, whose push service decrypts with the subscription's
 * private key. What each test checks is what reached the provider's inbox.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError } from "#shared/errors.ts";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import { startLocalProvider } from "../../../../scripts/local-provider.ts";
import { localProviderSenders } from "../../../../test/support/local-provider-senders.ts";
import { migratedTestDatabase, randomCitizenId } from "../../../../test/support/migrated-database.ts";
import { type NotifierDependencies, PUSH_SUBSCRIPTION_GONE } from "./notify-event.ts";
import { PostgresCitizenDirectory } from "./postgres-citizen-directory.ts";
import { PostgresNotificationLog } from "./postgres-notification-log.ts";
import { PostgresPushSubscriptions } from "./push-subscriptions.ts";
import { notifyQueued, priorityOf, priorityOrder } from "./queued-notification.ts";
import { loadQueuedTemplates } from "./queued-template-catalogue.ts";
import { loadTemplateCatalogue } from "./template-catalogue.ts";
import { generateVapidKeys } from "./vapid.ts";
import { WebPushSender } from "./web-push-sender.ts";

const sql = await migratedTestDatabase("workers/notifier queued notifications");
const provider = await startLocalProvider({ port: 0 });
const vapid = { ...(await generateVapidKeys()), subject: "mailto:push@council.example.gov" };
afterAll(async () => {
  await provider.close();
  await sql?.end({ timeout: 5 });
});
beforeEach(() => provider.reset());

const delivery = { enqueuedAt: new Date(), attempts: 1, maxRetries: 5 };

function queued(
  kind: "email" | "sms" | "push",
  data: Record<string, unknown>,
  directContact: boolean,
): CloudEventRecord {
  const type = `gov.notification.${kind}.queued`;
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/services/case-management",
    type,
    time: "2026-06-20T15:30:02Z",
    datacontenttype: "application/json",
    edgebusdirectcontact: directContact,
    data: { ...(governmentCatalogue.require(type).example as Record<string, unknown>), ...data },
  } as CloudEventRecord;
}

describe.skipIf(!sql)("queued notifications", () => {
  const db = sql as NonNullable<typeof sql>;
  const deps: NotifierDependencies = {
    catalogue: loadTemplateCatalogue(),
    queuedTemplates: loadQueuedTemplates(),
    directory: new PostgresCitizenDirectory(db),
    pushSubscriptions: new PostgresPushSubscriptions(db),
    log: new PostgresNotificationLog(db),
    timeZone: "Europe/Dublin",
    senders: { ...localProviderSenders(provider.url), push: new WebPushSender({ vapid }) },
  };

  async function citizen(contact: { name: string; email: string | null; phone: string | null; language?: string }) {
    const id = randomCitizenId();
    await db`insert into permits.citizen_refs (citizen_id, name, email, phone, preferred_language, event_version, last_event_id, last_event_source)
      values (${id}, ${contact.name}, ${contact.email}, ${contact.phone}, ${contact.language ?? "en"}, 1, ${crypto.randomUUID()}, '/test/queued')`;
    return id;
  }

  /** A browser subscription made at the local push service, registered for `citizenId`. */
  async function subscribe(citizenId: number) {
    const response = await fetch(`${provider.url}/push/subscriptions`, {
      method: "POST",
      body: JSON.stringify({ applicationServerKey: vapid.publicKey }),
    });
    const subscription = (await response.json()) as { endpoint: string; keys: { p256dh: string; auth: string } };
    await db`insert into edgebus.push_subscriptions (endpoint, citizen_id, p256dh, auth, registered_by)
      values (${subscription.endpoint}, ${citizenId}, ${subscription.keys.p256dh}, ${subscription.keys.auth}, 'test')`;
    return subscription;
  }

  it("email with the direct-contact stamp: the template rendered with template_data goes to `to`, with its priority", async () => {
    const to = `amina.${crypto.randomUUID().slice(0, 8)}@haddad.ie`;
    const event = queued("email", { citizen_id: null, to, priority: "high" }, true);
    const result = await notifyQueued(event, deps, delivery);
    expect(result.channels).toMatchObject([{ channel: "email", status: "sent" }]);
    const [mail] = provider.received().filter((message) => message.route === "sendgrid");
    expect(mail).toMatchObject({
      to: [to],
      subject: "Your permit PRM-2026-004512 has been approved",
    });
    expect(mail?.text).toContain(
      "Hello,\n\nYour permit PRM-2026-004512 has been approved. It is valid until 2027-06-30.",
    );
    expect((mail?.payload as { headers?: unknown } | undefined)?.headers).toEqual({
      Importance: "high",
      "X-Priority": "1",
    });
    // Redelivered: the ledger says sent, nothing goes out again.
    expect((await notifyQueued(event, deps, delivery)).channels).toMatchObject([{ status: "already_sent" }]);
    expect(provider.received().filter((message) => message.route === "sendgrid")).toHaveLength(1);
  });

  it("a key without direct-contact cannot choose the recipient: the directory's address is used, or it is skipped", async () => {
    const id = await citizen({
      name: "Amina Haddad",
      email: `dir.${crypto.randomUUID().slice(0, 8)}@haddad.ie`,
      phone: null,
    });
    const chosen = "attacker@example.com";
    const event = queued("email", { citizen_id: id, to: chosen, locale: "fr-BE" }, false);
    await notifyQueued(event, deps, delivery);
    const [mail] = provider.received().filter((message) => message.route === "sendgrid");
    expect(mail?.to).not.toContain(chosen);
    expect(mail?.to?.[0]).toMatch(/^dir\./);
    expect(mail?.subject).toBe("Votre permis PRM-2026-004512 est accordé");
    expect(mail?.text).toContain("Bonjour Amina Haddad,");

    // No citizen to fall back on: a counted skip with its reason, and nothing sent.
    const orphan = queued("sms", { citizen_id: null, to: "+35312345678" }, false);
    const skipped = await notifyQueued(orphan, deps, delivery);
    expect(skipped.channels).toEqual([{ channel: "sms", status: "skipped", reason: "to_needs_direct_contact" }]);
    expect(provider.received().filter((message) => message.route === "twilio")).toHaveLength(0);
    const rows = await db`select status, skip_reason from edgebus.notifications where event_id = ${orphan.id}`;
    expect(rows).toEqual([{ status: "skipped", skip_reason: "to_needs_direct_contact" }]);

    // A citizen without a phone: skipped for that reason.
    const noPhone = await notifyQueued(queued("sms", { citizen_id: id }, false), deps, delivery);
    expect(noPhone.channels).toEqual([{ channel: "sms", status: "skipped", reason: "no_phone_number" }]);
  });

  it("sms: rendered in the event's locale and sent to the directory phone", async () => {
    const phone = `+3538${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    const id = await citizen({ name: "Jean Dupont", email: null, phone });
    await notifyQueued(queued("sms", { citizen_id: id, locale: "fr" }, false), deps, delivery);
    const [sms] = provider.received().filter((message) => message.route === "twilio");
    expect(sms?.to).toEqual([phone]);
    expect(sms?.text).toBe(
      "Rappel : l'inspection de votre site a lieu le 2026-08-12 à 09:30. Merci de rendre le site accessible.",
    );
  });

  it("push: one encrypted message per device, decrypted by the push service; a gone subscription is deleted", async () => {
    const id = randomCitizenId();
    const phone = await subscribe(id);
    const laptop = await subscribe(id);
    const event = queued("push", { citizen_id: id, priority: "high" }, false);
    const result = await notifyQueued(event, deps, delivery);
    expect(result.channels.map((channel) => channel.status)).toEqual(["sent", "sent"]);
    const pushes = provider.received().filter((message) => message.route === "push");
    expect(pushes.map((message) => message.to?.[0]).sort()).toEqual(
      [new URL(phone.endpoint).pathname, new URL(laptop.endpoint).pathname].sort(),
    );
    for (const push of pushes) {
      expect(push.payload).toEqual({
        title: "Payment failed",
        body: "Your payment of 84.50 EUR was declined. Tap to try again.",
        url: "/payments/PAY-2026-00031902",
        notification_id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        locale: "en",
        priority: "high",
      });
      expect(push.push_headers).toMatchObject({ urgency: "high", ttl: "86400" });
    }

    // The laptop's browser revoked the permission: its push service answers 410.
    const laptopId = new URL(laptop.endpoint).pathname.split("/").at(-1) as string;
    expect((await fetch(`${provider.url}/push/subscriptions/${laptopId}`, { method: "DELETE" })).status).toBe(204);
    provider.reset();
    const next = await notifyQueued(queued("push", { citizen_id: id }, false), deps, delivery);
    expect(next.channels.map((channel) => channel.status).sort()).toEqual(["sent", "skipped"]);
    expect(next.channels).toContainEqual({ channel: "push", status: "skipped", reason: PUSH_SUBSCRIPTION_GONE });
    const left = await db`select endpoint from edgebus.push_subscriptions where citizen_id = ${id}`;
    expect(left.map((row) => row.endpoint)).toEqual([phone.endpoint]);

    // No subscription at all: a skip with its reason.
    const none = await notifyQueued(queued("push", { citizen_id: randomCitizenId() }, false), deps, delivery);
    expect(none.channels).toEqual([{ channel: "push", status: "skipped", reason: "no_push_subscription" }]);
  });

  it("a missing template or variable is a permanent error naming it, and nothing is sent", async () => {
    const unknown = queued("email", { template: "no_such_template" }, true);
    const missing = queued("push", { citizen_id: randomCitizenId(), template_data: {} }, false);
    const noVersion = loadQueuedTemplates({
      email_only: { en: { email: { subject: "s", body: "b" } }, fr: { email: { subject: "s", body: "b" } } },
    });
    for (const [event, message, templates] of [
      [unknown, /no queued-notification template "no_such_template"/, deps.queuedTemplates],
      [
        missing,
        /template "payment_failed" \(push, en\) reads \{\{amount\}\}, which template_data does not provide/,
        deps.queuedTemplates,
      ],
      [queued("push", { citizen_id: 1, template: "email_only" }, false), /has no push version/, noVersion],
    ] as const) {
      const error = await notifyQueued(event, { ...deps, queuedTemplates: templates }, delivery).catch((e) => e);
      expect(error).toBeInstanceOf(EdgebusError);
      expect(error.message).toMatch(message);
      expect(error.retryable).toBe(false);
    }
    expect(provider.received()).toHaveLength(0);
  });

  it("loading refuses templates whose locales disagree or do not parse", () => {
    expect(() => loadQueuedTemplates({ a: { en: { sms: { body: "x", maxSegments: 1 } } } })).toThrow(/no "fr" version/);
    expect(() =>
      loadQueuedTemplates({
        a: { en: { sms: { body: "x", maxSegments: 1 } }, fr: { push: { title: "t", body: "b" } } },
      }),
    ).toThrow(/channels/);
    expect(() =>
      loadQueuedTemplates({
        a: { en: { push: { title: "{{#x}}", body: "b" } }, fr: { push: { title: "t", body: "b" } } },
      }),
    ).toThrow(/never closed/);
  });

  it("priority of a batch message: a queued event's, normal for anything else", () => {
    expect(priorityOf(queued("sms", { priority: "high" }, false))).toBe("high");
    expect(priorityOf(queued("email", { priority: "low" }, false))).toBe("low");
    expect(priorityOf({ type: "gov.permits.application.approved", data: { priority: "high" } })).toBe("normal");
    expect(priorityOf(null)).toBe("normal");
  });

  it("a batch is handled high first, low last, otherwise in arrival order", () => {
    const rule = { type: "gov.permits.application.approved", data: {} };
    const bodies = [
      queued("email", { priority: "low" }, false),
      rule,
      queued("sms", { priority: "high" }, false),
      queued("push", { priority: "normal" }, false),
      queued("sms", { priority: "low" }, false),
      queued("email", { priority: "high" }, false),
    ];
    expect(priorityOrder(bodies)).toEqual([2, 5, 1, 3, 0, 4]);
  });
});
