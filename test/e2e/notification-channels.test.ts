/**
 * Every notification channel the catalogue promises, end to end through `npm run dev`: the three
 * `gov.notification.*.queued` types published through the producer API reach the local
 * provider's inbox rendered from their template (email and SMS as sent, push as the local push
 * service decrypted it with the subscription's private key); a key without
 * `notify:direct-contact` cannot choose the recipient; a template the notifier does not have is a
 * dead letter naming it; a push subscription registered through
 * `POST /v1/citizens/{id}/push-subscriptions` and then expired at its push service is removed
 * from Postgres after the 410.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../schemas/index.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { generateApiKey, hashApiKey } from "../../workers/producer/src/auth/key-hash.ts";
import { randomCitizenId } from "../support/migrated-database.ts";
import { requireService } from "../support/services.ts";
import { eventually, useDevStack } from "./dev-stack-process.ts";

const SUITE = "notification channels (npm run dev)";
/** Local queues deliver in batches of up to 5 s; a few rounds of them. */
const TEST_TIMEOUT_MS = 90_000;
const postgresUp = await requireService("postgres", SUITE);

// biome-ignore lint/suspicious/noExplicitAny: API bodies and inbox entries are read field by field and asserted
type Json = Record<string, any>;
const run = crypto.randomUUID().slice(0, 8);
const example = (type: string) => structuredClone(governmentCatalogue.require(type).example) as Json;

/** A case-management service: may publish notifications, may not choose their recipient. */
const caseKey = generateApiKey();
/** The service owning the citizen app: registers its citizens' push subscriptions. */
const appKey = generateApiKey();

describe.runIf(postgresUp)(SUITE, () => {
  const dev = useDevStack(async () => ({
    port: 18861,
    bridgePort: 18862,
    providerPort: 18863,
    env: {
      DATABASE_URL: serviceUrls.postgres,
      EDGEBUS_DEV_API_KEY: `ebk_e2e_${crypto.randomUUID().replaceAll("-", "")}`,
      EDGEBUS_DEV_EXTRA_API_KEYS: JSON.stringify([
        {
          id: "case-management",
          hash: await hashApiKey(caseKey),
          sources: ["/services/case-management"],
          types: ["gov.notification.**"],
        },
        {
          id: "citizen-app",
          hash: await hashApiKey(appKey),
          sources: ["/services/citizen-app"],
          types: ["gov.notification.push.queued"],
          scopes: ["notify:push-subscriptions"],
        },
      ]),
    },
  }));
  let sql: postgres.Sql;
  beforeAll(() => {
    sql = postgres(serviceUrls.postgres, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
  });

  async function call(method: string, path: string, key: string, body?: unknown) {
    const response = await fetch(`${dev.stack.info.producer}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : {}) as Json };
  }

  async function publish(key: string, source: string, kind: "email" | "sms" | "push", data: Json) {
    const type = `gov.notification.${kind}.queued`;
    const event = {
      specversion: "1.0",
      id: `${kind}-${crypto.randomUUID()}`,
      source,
      type,
      data: { ...example(type), ...data },
    };
    const response = await fetch(`${dev.stack.info.producer}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/cloudevents+json" },
      body: JSON.stringify(event),
    });
    const receipt = (await response.json()) as Json;
    expect(response.status, JSON.stringify(receipt)).toBe(202);
    expect(receipt.queues).toContain("notifications");
    return event;
  }

  const inbox = async (route: string): Promise<Json[]> =>
    ((await (await fetch(`${dev.stack.info.providerUrl}/inbox?route=${route}`)).json()) as { messages: Json[] })
      .messages;

  async function citizenInDirectory(email: string, phone: string): Promise<number> {
    const id = randomCitizenId();
    await sql`insert into permits.citizen_refs (citizen_id, name, email, phone, preferred_language, event_version, last_event_id, last_event_source)
      values (${id}, 'Amina Haddad', ${email}, ${phone}, 'en', 1, ${`e2e-${run}`}, '/e2e/notification-channels')`;
    return id;
  }

  it(
    "email and SMS queued: rendered from the template; `to` only with direct-contact, else the directory's",
    async () => {
      const directTo = `direct.${run}@example.org`;
      const directoryEmail = `directory.${run}@example.org`;
      const directoryPhone = `+3538${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
      const citizen = await citizenInDirectory(directoryEmail, directoryPhone);

      // The dev key holds notify:direct-contact: `to` is used.
      await publish(dev.stack.info.apiKey, "/services/permits", "email", {
        citizen_id: null,
        to: directTo,
        priority: "high",
      });
      // The case-management key does not: it names a recipient, the directory's contact is used instead.
      const chosen = `chosen.${run}@example.org`;
      await publish(caseKey, "/services/case-management", "email", { citizen_id: citizen, to: chosen, locale: "fr" });
      await publish(caseKey, "/services/case-management", "sms", { citizen_id: citizen, to: "+35310000000" });
      // …and without a citizen it cannot send at all: a counted skip.
      const orphan = await publish(caseKey, "/services/case-management", "email", { citizen_id: null, to: chosen });
      // A template the notifier does not have: a dead letter saying so, never a blank message.
      const unknownTemplate = await publish(dev.stack.info.apiKey, "/services/permits", "sms", {
        template: "no_such_template",
        to: "+35310000001",
      });

      const direct = await eventually("the direct email", async () =>
        (await inbox("sendgrid")).find((m) => m.accepted && m.to?.includes(directTo)),
      );
      expect(direct.subject).toBe("Your permit PRM-2026-004512 has been approved");
      expect(direct.text).toContain("Your permit PRM-2026-004512 has been approved. It is valid until 2027-06-30.");
      expect(direct.payload.headers).toEqual({ Importance: "high", "X-Priority": "1" });

      const french = await eventually("the directory email", async () =>
        (await inbox("sendgrid")).find((m) => m.accepted && m.to?.includes(directoryEmail)),
      );
      expect(french.subject).toBe("Votre permis PRM-2026-004512 est accordé");
      expect(french.text).toContain("Bonjour Amina Haddad,");
      const sms = await eventually("the SMS", async () =>
        (await inbox("twilio")).find((m) => m.accepted && m.to?.includes(directoryPhone)),
      );
      expect(sms.text).toBe(
        "Reminder: your site inspection is on 2026-08-12 at 09:30. Please make sure the site is accessible.",
      );

      const skipped = await eventually("the skip in the ledger", async () => {
        const rows = await sql`select status, skip_reason from edgebus.notifications where event_id = ${orphan.id}`;
        return rows.length > 0 ? rows : undefined;
      });
      expect(skipped).toEqual([{ status: "skipped", skip_reason: "to_needs_direct_contact" }]);
      expect((await inbox("sendgrid")).some((m) => m.to?.includes(chosen))).toBe(false);
      expect((await inbox("twilio")).some((m) => m.to?.includes("+35310000000"))).toBe(false);

      const [deadLetter] = await eventually("the unknown template's dead letter", async () => {
        const rows = await sql`select queue, error_code, error_message from edgebus.dead_letters
          where event_id = ${unknownTemplate.id}`;
        return rows.length > 0 ? rows : undefined;
      });
      expect(deadLetter).toMatchObject({ queue: "notifications", error_code: "schema_validation_failed" });
      expect(deadLetter?.error_message).toContain('no queued-notification template "no_such_template"');
      expect((await inbox("twilio")).some((m) => m.to?.includes("+35310000001"))).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "push queued: every registered device gets the decrypted payload; an expired subscription is removed",
    async () => {
      const citizen = randomCitizenId();
      const device = async () => {
        const response = await fetch(`${dev.stack.info.providerUrl}/push/subscriptions`, {
          method: "POST",
          body: JSON.stringify({ applicationServerKey: dev.stack.info.vapidPublicKey }),
        });
        expect(response.status).toBe(201);
        return (await response.json()) as { endpoint: string; keys: { p256dh: string; auth: string } };
      };
      const phone = await device();
      const tablet = await device();
      const path = `/v1/citizens/${citizen}/push-subscriptions`;
      // Only the citizen app's service may register them.
      expect((await call("POST", path, caseKey, phone)).status).toBe(403);
      for (const subscription of [phone, tablet])
        expect((await call("POST", path, appKey, subscription)).status).toBe(201);

      const first = await publish(appKey, "/services/citizen-app", "push", { citizen_id: citizen, priority: "high" });
      const delivered = await eventually("both pushes", async () => {
        const pushes = (await inbox("push")).filter(
          (m) => m.accepted && (m.payload as Json)?.notification_id === first.data.notification_id,
        );
        return pushes.length === 2 ? pushes : undefined;
      });
      for (const push of delivered) {
        expect(push.payload).toEqual({
          title: "Payment failed",
          body: "Your payment of 84.50 EUR was declined. Tap to try again.",
          url: "/payments/PAY-2026-00031902",
          notification_id: first.data.notification_id,
          locale: "en",
          priority: "high",
        });
        expect(push.push_headers.urgency).toBe("high");
      }

      // The tablet's browser revokes the permission: its push service answers 410 from now on.
      const tabletId = new URL(tablet.endpoint).pathname.split("/").at(-1);
      expect(
        (await fetch(`${dev.stack.info.providerUrl}/push/subscriptions/${tabletId}`, { method: "DELETE" })).status,
      ).toBe(204);
      const notificationId = crypto.randomUUID();
      await publish(appKey, "/services/citizen-app", "push", { citizen_id: citizen, notification_id: notificationId });
      await eventually("the expired subscription removed", async () => {
        const rows = await sql`select endpoint from edgebus.push_subscriptions where citizen_id = ${citizen}`;
        return rows.length === 1 && rows[0]?.endpoint === phone.endpoint ? true : undefined;
      });
      const toPhone = await eventually("the push to the remaining device", async () =>
        (await inbox("push")).find((m) => m.accepted && (m.payload as Json)?.notification_id === notificationId),
      );
      expect(toPhone.to).toEqual([new URL(phone.endpoint).pathname]);
      expect(
        (await inbox("push")).filter((m) => m.status === 410 && m.to?.[0] === new URL(tablet.endpoint).pathname),
      ).toHaveLength(1);
      expect((await call("DELETE", `${path}?endpoint=${encodeURIComponent(tablet.endpoint)}`, appKey)).status).toBe(
        404,
      );
      expect((await call("DELETE", `${path}?endpoint=${encodeURIComponent(phone.endpoint)}`, appKey)).status).toBe(204);
    },
    TEST_TIMEOUT_MS,
  );
});
