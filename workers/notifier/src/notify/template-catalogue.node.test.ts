import { describe, expect, it } from "vitest";
import { governmentDomains } from "../../../../schemas/index.ts";
import { formatVariables } from "./event-variables.ts";
import type { NotificationRule } from "./notification-rule.ts";
import { NOTIFICATION_RULES } from "./notification-rules.ts";
import { smsLength } from "./sms-length.ts";
import { loadTemplateCatalogue } from "./template-catalogue.ts";
import { TEMPLATES } from "./templates.ts";

const catalogue = loadTemplateCatalogue();
const events = new Map(governmentDomains.flatMap((domain) => domain.events.map((event) => [event.type, event])));

function valuesFor(
  notificationRule: NotificationRule,
  data: unknown,
  locale: string,
  name: string | undefined,
): Record<string, string> {
  return {
    ...formatVariables(notificationRule.variables, data, { locale, timeZone: "Europe/Dublin", catalogue }),
    name: name ?? "",
    greeting: catalogue.greeting(locale, name),
  };
}

describe("notification templates", () => {
  it("load: every notification rule has its templates in every locale, using only provided variables", () => {
    expect(catalogue.locales).toEqual(["en", "fr"]);
    expect(NOTIFICATION_RULES.map((notificationRule) => notificationRule.type).sort()).toEqual([
      "gov.auth.citizen.created",
      "gov.documents.document.verified",
      "gov.permits.application.approved",
      "gov.permits.application.rejected",
      "gov.permits.application.submitted",
      "gov.permits.inspection.scheduled",
      "gov.revenue.payment.completed",
      "gov.revenue.payment.failed",
      "gov.revenue.refund.issued",
    ]);
  });

  for (const notificationRule of NOTIFICATION_RULES) {
    for (const locale of ["en", "fr"]) {
      it(`${notificationRule.template} renders the catalogue example of ${notificationRule.type} in ${locale}`, () => {
        const definition = events.get(notificationRule.type);
        expect(definition, `${notificationRule.type} is in the catalogue`).toBeDefined();
        const values = valuesFor(notificationRule, definition?.example, locale, "Amina <Haddad>");
        const channels = new Set(notificationRule.channels.map((rule) => rule.channel));
        if (channels.has("email")) {
          const email = catalogue.renderEmail(notificationRule.template, locale, values);
          for (const part of [email.subject, email.text, email.html]) {
            expect(part).not.toMatch(/\{\{|\}\}|undefined|NaN/);
          }
          expect(email.subject.length).toBeGreaterThan(5);
          expect(email.subject).not.toMatch(/\n/);
          expect(email.text).toContain("Amina <Haddad>");
          expect(email.text).not.toMatch(/\n{3,}/);
          expect(email.html).toContain("Amina &lt;Haddad&gt;");
          expect(email.html).not.toContain("<Haddad>");
          expect(email.html).toContain(`<html lang="${locale}">`);
        }
        if (channels.has("sms")) {
          const sms = catalogue.renderSms(notificationRule.template, locale, values);
          expect(sms).not.toMatch(/\{\{|\}\}|undefined|NaN|\n/);
          const maxSegments = TEMPLATES[notificationRule.template]?.[locale]?.sms?.maxSegments ?? 0;
          expect(smsLength(sms).segments).toBeLessThanOrEqual(maxSegments);
          expect(sms.endsWith("...")).toBe(false); // the example fits without cutting
        }
      });
    }
  }

  it("formats money, dates and labels for the locale", () => {
    const notificationRule = NOTIFICATION_RULES.find(
      (s) => s.type === "gov.revenue.payment.completed",
    ) as NotificationRule;
    const data = events.get(notificationRule.type)?.example;
    const en = valuesFor(notificationRule, data, "en", undefined);
    const fr = valuesFor(notificationRule, data, "fr", undefined);
    expect(en.amount).toBe("€250.00");
    expect(fr.amount).toBe("250,00\u00a0€");
    expect(en.purpose).toBe("permit fee");
    expect(fr.purpose).toBe("frais de permis");
    expect(en.completed_at).toBe("3 Jun 2026, 11:16"); // 10:16Z is 11:16 in Dublin (summer time)
    expect(en.greeting).toBe("Hello,");
    expect(fr.greeting).toBe("Bonjour,");
  });

  it("shows optional sections only when the event has the value", () => {
    const notificationRule = NOTIFICATION_RULES.find(
      (s) => s.type === "gov.permits.application.rejected",
    ) as NotificationRule;
    const base = events.get(notificationRule.type)?.example as Record<string, unknown>;
    const withAppeal = catalogue.renderEmail(
      notificationRule.template,
      "en",
      valuesFor(notificationRule, { ...base, appeal_deadline: "2026-07-01", comment: "See <policy>" }, "en", "Amina"),
    );
    expect(withAppeal.text).toContain("You may appeal this decision until 1 July 2026.");
    expect(withAppeal.html).toContain("See &lt;policy&gt;");
    const without = catalogue.renderEmail(
      notificationRule.template,
      "en",
      valuesFor(notificationRule, { ...base, appeal_deadline: null, comment: undefined }, "en", "Amina"),
    );
    expect(without.text).not.toMatch(/appeal|case officer/);
  });

  it("chooses the best locale and falls back to English", () => {
    expect(catalogue.chooseLocale("fr")).toBe("fr");
    expect(catalogue.chooseLocale("fr-CA")).toBe("fr");
    expect(catalogue.chooseLocale("ga")).toBe("en");
    expect(catalogue.chooseLocale(undefined)).toBe("en");
  });

  it("refuses at load time a template that reads a variable the notification rule does not provide", () => {
    const broken: NotificationRule = {
      type: "gov.test.thing.happened",
      template: "broken",
      channels: [{ channel: "email" }],
      recipient: { citizenIdPath: "citizen_id", directory: "permits" },
      variables: { known: { path: "known" } },
    };
    const templates = {
      broken: {
        en: { email: { subject: "{{known}}", body: "{{unknown}}" } },
        fr: { email: { subject: "{{known}}", body: "{{known}}" } },
      },
    };
    expect(() => loadTemplateCatalogue([broken], templates)).toThrow(/broken\/en uses variables .*unknown/);
  });

  it("refuses at load time a template missing a locale or a channel", () => {
    const notificationRule: NotificationRule = {
      type: "gov.test.thing.happened",
      template: "partial",
      channels: [{ channel: "email" }, { channel: "sms" }],
      recipient: { citizenIdPath: "citizen_id", directory: "permits" },
      variables: {},
    };
    const email = { subject: "s", body: "b" };
    const sms = { body: "b", maxSegments: 1 };
    expect(() => loadTemplateCatalogue([notificationRule], { partial: { en: { email, sms } } })).toThrow(
      /no "fr" version/,
    );
    expect(() => loadTemplateCatalogue([notificationRule], { partial: { en: { email }, fr: { email } } })).toThrow(
      /no sms version/,
    );
    expect(() => loadTemplateCatalogue([{ ...notificationRule, template: "missing" }], {})).toThrow(/does not exist/);
  });

  it("refuses at render time data that the catalogue would not have let through", () => {
    const notificationRule = NOTIFICATION_RULES.find((s) => s.type === "gov.revenue.refund.issued") as NotificationRule;
    expect(() => valuesFor(notificationRule, { refund_id: "REF-1" }, "en", undefined)).toThrow(/has no value/);
  });
});
