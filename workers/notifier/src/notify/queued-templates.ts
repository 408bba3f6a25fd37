/**
 * Wording of queued notifications (`gov.notification.{email,sms,push}.queued`), per template
 * name and locale, as data. A queued event names its `template` and carries the values in
 * `template_data`; the notifier renders the template in the event's `locale` (the language part:
 * `fr-BE` → `fr`; a locale without templates falls back to `en`).
 *
 * Same template language as the notification rules' (`template-text.ts`): `{{variable}}` and
 * `{{#variable}}…{{/variable}}`. Variables are the keys of `template_data` plus `{{name}}` and
 * `{{greeting}}` (from the citizen directory when the event names a citizen). A template the
 * event names that is missing here, a channel version it lacks, or a variable `template_data`
 * does not provide is a permanent error: the event is dead-lettered, never sent blank.
 *
 * Every template has a version for every locale, with the same channels (checked at load).
 */
/** One template in one locale: a version per channel it can be sent on. */
export interface QueuedTemplateSource {
  readonly email?: { readonly subject: string; readonly body: string };
  /** Longest the SMS may get after rendering, in segments (longer values are cut at a word). */
  readonly sms?: { readonly body: string; readonly maxSegments: number };
  readonly push?: { readonly title: string; readonly body: string };
}

export const QUEUED_TEMPLATES: Readonly<Record<string, Readonly<Record<string, QueuedTemplateSource>>>> = {
  permit_approved: {
    en: {
      email: {
        subject: "Your permit {{permit_number}} has been approved",
        body: "{{greeting}}\n\nYour permit {{permit_number}} has been approved. It is valid until {{valid_until}}.\n\nYou can see its conditions in your account.\n\nCouncil services",
      },
      sms: { body: "Permit {{permit_number}} approved, valid until {{valid_until}}.", maxSegments: 1 },
      push: { title: "Permit approved", body: "Permit {{permit_number}} is valid until {{valid_until}}." },
    },
    fr: {
      email: {
        subject: "Votre permis {{permit_number}} est accordé",
        body: "{{greeting}}\n\nVotre permis {{permit_number}} a été accordé. Il est valable jusqu'au {{valid_until}}.\n\nSes conditions figurent dans votre espace.\n\nLes services de la mairie",
      },
      sms: { body: "Permis {{permit_number}} accordé, valable jusqu'au {{valid_until}}.", maxSegments: 1 },
      push: { title: "Permis accordé", body: "Le permis {{permit_number}} est valable jusqu'au {{valid_until}}." },
    },
  },
  inspection_reminder: {
    en: {
      email: {
        subject: "Reminder: site inspection on {{date}} at {{time}}",
        body: "{{greeting}}\n\nThis is a reminder that your site inspection is on {{date}} at {{time}}. Please make sure the site is accessible.\n\nCouncil services",
      },
      sms: {
        body: "Reminder: your site inspection is on {{date}} at {{time}}. Please make sure the site is accessible.",
        maxSegments: 2,
      },
      push: { title: "Inspection reminder", body: "Your site inspection is on {{date}} at {{time}}." },
    },
    fr: {
      email: {
        subject: "Rappel : inspection le {{date}} à {{time}}",
        body: "{{greeting}}\n\nNous vous rappelons que l'inspection de votre site aura lieu le {{date}} à {{time}}. Merci de rendre le site accessible.\n\nLes services de la mairie",
      },
      sms: {
        body: "Rappel : l'inspection de votre site a lieu le {{date}} à {{time}}. Merci de rendre le site accessible.",
        maxSegments: 2,
      },
      push: { title: "Rappel d'inspection", body: "L'inspection de votre site a lieu le {{date}} à {{time}}." },
    },
  },
  payment_failed: {
    en: {
      email: {
        subject: "Your payment of {{amount}} did not go through",
        body: "{{greeting}}\n\nYour payment of {{amount}} was declined. No money has been taken.\n\nYou can try again from your account.\n\nCouncil services",
      },
      sms: { body: "Your payment of {{amount}} was declined. No money was taken.", maxSegments: 1 },
      push: { title: "Payment failed", body: "Your payment of {{amount}} was declined. Tap to try again." },
    },
    fr: {
      email: {
        subject: "Votre paiement de {{amount}} n'a pas abouti",
        body: "{{greeting}}\n\nVotre paiement de {{amount}} a été refusé. Aucune somme n'a été prélevée.\n\nVous pouvez réessayer depuis votre espace.\n\nLes services de la mairie",
      },
      sms: { body: "Votre paiement de {{amount}} a été refusé. Aucune somme prélevée.", maxSegments: 1 },
      push: { title: "Paiement refusé", body: "Votre paiement de {{amount}} a été refusé. Touchez pour réessayer." },
    },
  },
};
