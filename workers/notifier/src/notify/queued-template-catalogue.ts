/**
 * Loads the queued-notification templates (`queued-templates.ts`) and renders them with an
 * event's `template_data`. Everything is parsed at load, so a malformed template fails the tests
 * and the Worker's first invocation; what can only be known per event — the template the event
 * names, the channel version, the values it carries — fails that event permanently (dead letter)
 * with a message saying exactly what is missing.
 */
import { EdgebusError } from "#shared/errors.ts";
import { BUILT_IN_VARIABLES } from "./notification-rule.ts";
import { QUEUED_TEMPLATES, type QueuedTemplateSource } from "./queued-templates.ts";
import {
  type CompiledEmail,
  type CompiledSms,
  compileEmail,
  compileSms,
  type RenderedEmail,
  renderEmailVersion,
  renderSmsVersion,
  tidy,
} from "./template-catalogue.ts";
import { type ParsedTemplate, parseTemplate, renderTemplate } from "./template-text.ts";
import { DEFAULT_LOCALE, GREETINGS } from "./templates.ts";

export type QueuedChannel = "email" | "sms" | "push";

export interface RenderedPush {
  readonly title: string;
  readonly body: string;
}

interface Compiled {
  email?: CompiledEmail;
  sms?: CompiledSms;
  push?: { title: ParsedTemplate; body: ParsedTemplate };
}

export interface QueuedTemplateCatalogue {
  /**
   * Throws a permanent `schema_validation_failed` when `template` does not exist, has no
   * `channel` version, or reads variables `provided` lacks (all of them named).
   */
  check(template: string, channel: QueuedChannel, locale: string, provided: Iterable<string>): void;
  renderEmail(template: string, locale: string, values: Readonly<Record<string, string>>): RenderedEmail;
  renderSms(template: string, locale: string, values: Readonly<Record<string, string>>): string;
  renderPush(template: string, locale: string, values: Readonly<Record<string, string>>): RenderedPush;
}

function loadError(message: string): EdgebusError {
  return new EdgebusError("internal", `queued notification templates: ${message}`, { retryable: false });
}

function eventError(message: string, details: unknown): EdgebusError {
  return new EdgebusError("schema_validation_failed", message, { retryable: false, details });
}

const CHANNELS: readonly QueuedChannel[] = ["email", "sms", "push"];

export function loadQueuedTemplates(
  templates: Readonly<Record<string, Readonly<Record<string, QueuedTemplateSource>>>> = QUEUED_TEMPLATES,
): QueuedTemplateCatalogue {
  const locales = Object.keys(GREETINGS);
  const compiled = new Map<string, Map<string, Compiled>>();
  for (const [name, byLocale] of Object.entries(templates)) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(name)) throw loadError(`"${name}" is not a snake_case template name`);
    const perLocale = new Map<string, Compiled>();
    const channelsOf = (source: QueuedTemplateSource) => CHANNELS.filter((channel) => source[channel] !== undefined);
    const reference = byLocale[DEFAULT_LOCALE];
    if (!reference) throw loadError(`"${name}" has no "${DEFAULT_LOCALE}" version`);
    for (const locale of locales) {
      const source = byLocale[locale];
      if (!source) throw loadError(`"${name}" has no "${locale}" version`);
      if (channelsOf(source).join() !== channelsOf(reference).join()) {
        throw loadError(
          `"${name}/${locale}" has channels ${channelsOf(source).join(", ")}, "${DEFAULT_LOCALE}" has ${channelsOf(reference).join(", ")}`,
        );
      }
      const entry: Compiled = {};
      if (source.email) entry.email = compileEmail(source.email);
      if (source.sms) entry.sms = compileSms(source.sms, `${name}/${locale}`, loadError);
      if (source.push) entry.push = { title: parseTemplate(source.push.title), body: parseTemplate(source.push.body) };
      perLocale.set(locale, entry);
    }
    for (const locale of Object.keys(byLocale)) {
      if (!locales.includes(locale))
        throw loadError(`"${name}" has a "${locale}" version, which is not a supported locale`);
    }
    compiled.set(name, perLocale);
  }

  const parsedOf = (template: string, channel: QueuedChannel, locale: string): ParsedTemplate[] => {
    const byLocale = compiled.get(template);
    if (!byLocale) {
      throw eventError(
        `no queued-notification template "${template}": templates are data in workers/notifier/src/notify/queued-templates.ts`,
        { template, channel, known: [...compiled.keys()] },
      );
    }
    const entry = byLocale.get(locale) ?? byLocale.get(DEFAULT_LOCALE);
    const version = entry?.[channel];
    if (!version) throw eventError(`template "${template}" has no ${channel} version`, { template, channel });
    return Object.values(version).filter((value): value is ParsedTemplate => typeof value === "object");
  };

  const check: QueuedTemplateCatalogue["check"] = (template, channel, locale, provided) => {
    const available = new Set<string>([...provided, ...BUILT_IN_VARIABLES]);
    const read = new Set(parsedOf(template, channel, locale).flatMap((parsed) => [...parsed.variables]));
    const missing = [...read].filter((name) => !available.has(name)).sort();
    if (missing.length > 0) {
      throw eventError(
        `template "${template}" (${channel}, ${locale}) reads ${missing.map((name) => `{{${name}}}`).join(", ")}, which template_data does not provide`,
        { template, channel, locale, missing, provided: [...provided].sort() },
      );
    }
  };

  const version = <C extends QueuedChannel>(template: string, channel: C, locale: string): NonNullable<Compiled[C]> => {
    parsedOf(template, channel, locale);
    const entry = compiled.get(template)?.get(locale) ?? compiled.get(template)?.get(DEFAULT_LOCALE);
    return entry?.[channel] as NonNullable<Compiled[C]>;
  };

  return {
    check,
    renderEmail(template, locale, values) {
      return renderEmailVersion(version(template, "email", locale), locale, values);
    },
    renderSms(template, locale, values) {
      return renderSmsVersion(version(template, "sms", locale), values);
    },
    renderPush(template, locale, values) {
      const push = version(template, "push", locale);
      return {
        title: renderTemplate(push.title, values).replace(/\s+/g, " ").trim(),
        body: tidy(renderTemplate(push.body, values)),
      };
    },
  };
}
