/**
 * Loads the templates and notification rules and proves they fit together before anything is sent:
 * every notification rule's template exists in every supported locale for each of its message
 * channels, every template parses and reads only variables its notification rule provides, and every
 * locale labels the same enum values. `loadTemplateCatalogue()` throws on the first mismatch, so
 * a broken template fails the test suite and the Worker's first invocation, not a citizen's email.
 */
import { EdgebusError } from "#shared/errors.ts";
import { emailHtmlDocument, escapeHtml } from "./email-html.ts";
import { LABELS } from "./labels.ts";
import { BUILT_IN_VARIABLES, type NotificationRule } from "./notification-rule.ts";
import { NOTIFICATION_RULES } from "./notification-rules.ts";
import { fitSms } from "./sms-length.ts";
import { type ParsedTemplate, parseTemplate, renderTemplate } from "./template-text.ts";
import {
  DEFAULT_LOCALE,
  type EmailTemplateSource,
  FORMAT_LOCALES,
  GREETINGS,
  type LocaleTemplates,
  type SmsTemplateSource,
  TEMPLATES,
} from "./templates.ts";

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** `htmlBody` is the body with its literal text escaped; values are escaped when rendered. */
export interface CompiledEmail {
  readonly subject: ParsedTemplate;
  readonly body: ParsedTemplate;
  readonly htmlBody: ParsedTemplate;
}

export interface CompiledSms {
  readonly body: ParsedTemplate;
  readonly maxSegments: number;
}

interface CompiledLocale {
  email?: CompiledEmail;
  sms?: CompiledSms;
}

export interface TemplateCatalogue {
  /** Locales every template is written in; the first is the fallback. */
  readonly locales: readonly string[];
  /** Best supported locale for a BCP 47 tag (`fr-CA` → `fr`), else the default. */
  chooseLocale(preferred: string | null | undefined): string;
  label(locale: string, value: string): string;
  /** The Intl locale for numbers and dates in `locale`. */
  formatLocale(locale: string): string;
  greeting(locale: string, name: string | undefined): string;
  renderEmail(template: string, locale: string, values: Readonly<Record<string, string>>): RenderedEmail;
  renderSms(template: string, locale: string, values: Readonly<Record<string, string>>): string;
}

function loadError(message: string, details?: unknown): EdgebusError {
  return new EdgebusError("internal", `notification templates: ${message}`, { retryable: false, details });
}

/** Collapses the blank lines an empty `{{#section}}` leaves behind. */
export function tidy(text: string): string {
  return text
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export function compileEmail(source: EmailTemplateSource): CompiledEmail {
  return {
    subject: parseTemplate(source.subject),
    body: parseTemplate(source.body),
    htmlBody: parseTemplate(escapeHtml(source.body)),
  };
}

/** Throws `fail(…)` naming `where` when `maxSegments` is not a positive integer. */
export function compileSms(source: SmsTemplateSource, where: string, fail: (message: string) => Error): CompiledSms {
  if (!Number.isInteger(source.maxSegments) || source.maxSegments < 1) {
    throw fail(`${where}: sms maxSegments must be a positive integer`);
  }
  return { body: parseTemplate(source.body), maxSegments: source.maxSegments };
}

/** Subject on one line (it is a header, whatever the data holds), text and HTML with empty sections tidied. */
export function renderEmailVersion(
  email: CompiledEmail,
  locale: string,
  values: Readonly<Record<string, string>>,
): RenderedEmail {
  const subject = renderTemplate(email.subject, values).replace(/\s+/g, " ").trim();
  const text = tidy(renderTemplate(email.body, values));
  const html = emailHtmlDocument(tidy(renderTemplate(email.htmlBody, values, escapeHtml)), escapeHtml(subject), locale);
  return { subject, text, html };
}

/** One line, fitted to the version's `maxSegments`. */
export function renderSmsVersion(sms: CompiledSms, values: Readonly<Record<string, string>>): string {
  return fitSms(tidy(renderTemplate(sms.body, values)).replace(/\s*\n+\s*/g, " "), sms.maxSegments);
}

export function loadTemplateCatalogue(
  notificationRules: readonly NotificationRule[] = NOTIFICATION_RULES,
  templates: typeof TEMPLATES = TEMPLATES,
): TemplateCatalogue {
  const locales = Object.keys(GREETINGS);
  const unformatted = locales.filter((locale) => !FORMAT_LOCALES[locale]);
  if (unformatted.length > 0) throw loadError(`no FORMAT_LOCALES entry for ${unformatted.join(", ")}`);
  if (locales[0] !== DEFAULT_LOCALE) throw loadError(`the first locale must be the default "${DEFAULT_LOCALE}"`);

  const labelKeys = Object.keys(LABELS[DEFAULT_LOCALE] ?? {}).sort();
  for (const locale of locales) {
    const keys = Object.keys(LABELS[locale] ?? {}).sort();
    const missing = labelKeys.filter((key) => !keys.includes(key));
    const extra = keys.filter((key) => !labelKeys.includes(key));
    if (missing.length > 0 || extra.length > 0) throw loadError(`labels of "${locale}" differ`, { missing, extra });
  }

  const greetings = new Map(
    locales.map((locale) => {
      const source = GREETINGS[locale] as (typeof GREETINGS)[string];
      return [locale, { named: parseTemplate(source.named), anonymous: parseTemplate(source.anonymous) }];
    }),
  );

  const compiled = new Map<string, Map<string, CompiledLocale>>();
  for (const notificationRule of notificationRules) {
    const byLocale = templates[notificationRule.template];
    if (!byLocale)
      throw loadError(`template "${notificationRule.template}" (for ${notificationRule.type}) does not exist`);
    const allowed = new Set<string>([...BUILT_IN_VARIABLES, ...Object.keys(notificationRule.variables)]);
    const perLocale = new Map<string, CompiledLocale>();
    for (const locale of locales) {
      const source: LocaleTemplates | undefined = byLocale[locale];
      if (!source) throw loadError(`template "${notificationRule.template}" has no "${locale}" version`);
      const entry: CompiledLocale = {};
      const where = `${notificationRule.template}/${locale}`;
      for (const rule of notificationRule.channels) {
        if (rule.channel === "email" && !source.email) throw loadError(`${where} has no email version`);
        if (rule.channel === "sms" && !source.sms) throw loadError(`${where} has no sms version`);
      }
      if (source.email) entry.email = compileEmail(source.email);
      if (source.sms) entry.sms = compileSms(source.sms, where, loadError);
      for (const parsed of [entry.email?.subject, entry.email?.body, entry.sms?.body]) {
        const unknown = [...(parsed?.variables ?? [])].filter((name) => !allowed.has(name));
        if (unknown.length > 0) {
          throw loadError(`${where} uses variables the notification rule does not provide: ${unknown.join(", ")}`, {
            provided: [...allowed],
          });
        }
      }
      perLocale.set(locale, entry);
    }
    compiled.set(notificationRule.template, perLocale);
  }

  const lookup = (template: string, locale: string): CompiledLocale => {
    const entry = compiled.get(template)?.get(locale);
    if (!entry) throw loadError(`no template "${template}" for locale "${locale}"`);
    return entry;
  };

  return {
    locales,
    chooseLocale(preferred) {
      if (!preferred) return DEFAULT_LOCALE;
      if (locales.includes(preferred)) return preferred;
      const language = preferred.split("-")[0]?.toLowerCase() ?? "";
      return locales.includes(language) ? language : DEFAULT_LOCALE;
    },
    formatLocale(locale) {
      return FORMAT_LOCALES[locale] ?? locale;
    },
    label(locale, value) {
      return LABELS[locale]?.[value] ?? value.replaceAll("_", " ");
    },
    greeting(locale, name) {
      const greeting = greetings.get(locale) ?? greetings.get(DEFAULT_LOCALE);
      if (!greeting) throw loadError(`no greeting for "${locale}"`);
      return name ? renderTemplate(greeting.named, { name }) : renderTemplate(greeting.anonymous, {});
    },
    renderEmail(template, locale, values) {
      const email = lookup(template, locale).email;
      if (!email) throw loadError(`${template}/${locale} has no email version`);
      return renderEmailVersion(email, locale, values);
    },
    renderSms(template, locale, values) {
      const sms = lookup(template, locale).sms;
      if (!sms) throw loadError(`${template}/${locale} has no sms version`);
      return renderSmsVersion(sms, values);
    },
  };
}
