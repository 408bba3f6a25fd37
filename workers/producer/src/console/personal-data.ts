/**
 * Personal data in events the console shows (live tail, dead-letter bodies): masked unless the
 * signed-in key may see it. The catalogue's events carry a citizen's name, contact details and
 * address under these field names (`schemas/fields.ts`: `personName`, `email`, `phone`, the
 * address object); any field with one of these names, at any depth, is replaced by `"•••"`
 * (an object or array value as a whole). Identifiers (`id`, `citizen_id`) stay: operators need
 * them to follow an event, and they say nothing without the directory they point into.
 */
import { DIRECT_CONTACT_SCOPE } from "../auth/api-key-config.ts";
import type { Principal } from "../auth/authenticate.ts";

export const PERSONAL_FIELDS: ReadonlySet<string> = new Set([
  "name",
  "full_name",
  "first_name",
  "last_name",
  "email",
  "phone",
  "address",
  "line1",
  "line2",
  "postal_code",
  "date_of_birth",
  "birth_date",
  "national_id",
  "iban",
  "to",
  "recipient",
]);

export const MASK = "•••";

/**
 * Who may see personal data in the console: a key holding `notify:direct-contact`, the scope that
 * already lets its events' own contact details be used. Admin alone is not enough, and a
 * `metrics`-only key never sees it.
 */
export function maySeePersonalData(principal: Principal): boolean {
  return principal.scopes.includes(DIRECT_CONTACT_SCOPE);
}

/** A copy of `value` with every personal field masked. */
export function maskPersonalData(value: unknown, depth = 0): unknown {
  if (depth > 32) return MASK;
  if (Array.isArray(value)) return value.map((item) => maskPersonalData(item, depth + 1));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    out[key] = PERSONAL_FIELDS.has(key.toLowerCase()) ? MASK : maskPersonalData(field, depth + 1);
  }
  return out;
}

/** A CloudEvent with its `data` masked (envelope attributes are not personal). */
export function maskEvent(event: unknown): unknown {
  if (typeof event !== "object" || event === null || Array.isArray(event)) return event;
  const record = event as Record<string, unknown>;
  return "data" in record ? { ...record, data: maskPersonalData(record.data) } : record;
}
