/**
 * Reads a notification rule's template variables out of an event's `data` and formats them for the
 * recipient's locale. The producer validated `data` against the catalogue, so a required field
 * that is missing here means the notification rule and the catalogue disagree: that is a permanent
 * error (dead letter), never a half-filled message.
 */
import { EdgebusError } from "#shared/errors.ts";
import type { VariableSpec } from "./notification-rule.ts";
import type { TemplateCatalogue } from "./template-catalogue.ts";

export interface FormatContext {
  readonly locale: string;
  /** IANA time zone for `datetime` values (e.g. `Europe/Dublin`). */
  readonly timeZone: string;
  readonly catalogue: TemplateCatalogue;
}

/** Value at a dotted path (`site_address.city`), or undefined. */
export function valueAt(data: unknown, path: string): unknown {
  if (path === "") return data;
  let current: unknown = data;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function variableError(name: string, spec: VariableSpec, reason: string): EdgebusError {
  return new EdgebusError("schema_validation_failed", `notification variable "${name}" (${spec.path}): ${reason}`, {
    retryable: false,
    details: { variable: name, path: spec.path },
  });
}

export function formatVariables(
  specs: Readonly<Record<string, VariableSpec>>,
  data: unknown,
  context: FormatContext,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    values[name] = formatVariable(name, spec, data, context);
  }
  return values;
}

/**
 * Intl formatters are costly to build (the largest CPU item per notification before they were
 * kept): one per (kind, locale, currency or time zone), kept for the isolate's life. Currency
 * codes come from event data, so the cache is emptied should it ever grow past a few hundred.
 */
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function cachedFormatter<F extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => F): F {
  const known = formatters.get(key);
  if (known !== undefined) return known as F;
  if (formatters.size >= 500) formatters.clear();
  const made = make();
  formatters.set(key, made);
  return made;
}

function formatVariable(name: string, spec: VariableSpec, data: unknown, context: FormatContext): string {
  const value = valueAt(data, spec.path);
  const format = spec.format ?? "text";
  if (format === "flag") return (spec.equals === undefined ? value === true : value === spec.equals) ? "yes" : "";
  if (value === undefined || value === null) {
    if (spec.optional) return "";
    throw variableError(name, spec, "the event has no value");
  }
  switch (format) {
    case "text":
      if (typeof value === "string" || typeof value === "number") return String(value);
      throw variableError(name, spec, "expected a string or number");
    case "label":
      if (typeof value === "string") return context.catalogue.label(context.locale, value);
      throw variableError(name, spec, "expected an enum string");
    case "money": {
      const currency = valueAt(data, spec.currencyPath ?? "currency");
      if (!Number.isInteger(value) || typeof currency !== "string") {
        throw variableError(name, spec, "expected an integer amount and a currency code");
      }
      const locale = context.catalogue.formatLocale(context.locale);
      const formatter = cachedFormatter(
        `money\u0000${locale}\u0000${currency}`,
        () => new Intl.NumberFormat(locale, { style: "currency", currency }),
      );
      const digits = formatter.resolvedOptions().maximumFractionDigits ?? 2;
      return formatter.format((value as number) / 10 ** digits);
    }
    case "date": {
      // Calendar dates have no time zone: format them as UTC midnight so the day never shifts.
      if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        throw variableError(name, spec, "expected YYYY-MM-DD");
      }
      const locale = context.catalogue.formatLocale(context.locale);
      return cachedFormatter(
        `date\u0000${locale}`,
        () => new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }),
      ).format(new Date(`${value}T00:00:00Z`));
    }
    case "datetime": {
      const instant = typeof value === "string" ? new Date(value) : undefined;
      if (!instant || Number.isNaN(instant.getTime())) throw variableError(name, spec, "expected an RFC 3339 time");
      const locale = context.catalogue.formatLocale(context.locale);
      return cachedFormatter(
        `datetime\u0000${locale}\u0000${context.timeZone}`,
        () => new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone: context.timeZone }),
      ).format(instant);
    }
  }
}
