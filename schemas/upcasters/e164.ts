/**
 * A phone number written for people (`+1-555-0123`, `+353 (87) 123 4567`) → E.164 (`+15550123`),
 * the catalogue's phone format, when that is unambiguous:
 *
 * - it starts with `+` and a country code: a number without one (`555-0123`, `087 123 4567`,
 *   `00353…`, `011…`) could belong to any country, and the international prefix differs by
 *   country;
 * - between the digits only spaces, hyphens, dots and parentheses around digits (`(87)`);
 * - no national trunk prefix in parentheses (`+44 (0)20 …`): whether the `0` is dialled cannot be
 *   told from the text;
 * - no letters or other symbols (`ext. 12`, `x12`, `#`): an extension has no E.164 form;
 * - 7 to 15 digits, the first not 0 (E.164 allows at most 15, and no country code starts with 0).
 *
 * The check is syntactic, like the catalogue's `phone` (zod's e164): no numbering plan is
 * consulted, so `+1-555-0199` becomes `+15550199` although North American numbers have ten digits
 * after the `+1`. The reasons never repeat the number (error bodies carry no personal data).
 */
export type E164Result =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: string };

const ALLOWED = /^[0-9+\s.()-]*$/;
const TRUNK_PREFIX = /\(\s*0\s*\)/;
const DIGIT_GROUP = /\(([0-9\s.-]*[0-9][0-9\s.-]*)\)/g;
const E164_DIGITS = /^[1-9][0-9]{6,14}$/;

export function toE164(text: string): E164Result {
  const written = text.trim();
  if (!written.startsWith("+")) {
    return { ok: false, reason: "has no country code (a leading +), so the country it belongs to cannot be told" };
  }
  if (!ALLOWED.test(written)) {
    return { ok: false, reason: "holds letters or symbols (an extension?), which E.164 has no place for" };
  }
  if (written.indexOf("+", 1) !== -1) return { ok: false, reason: "holds more than one +" };
  if (TRUNK_PREFIX.test(written)) {
    return { ok: false, reason: "holds a trunk prefix (0) in parentheses: whether it is dialled cannot be told" };
  }
  const ungrouped = written.slice(1).replace(DIGIT_GROUP, "$1");
  if (/[()]/.test(ungrouped)) return { ok: false, reason: "has parentheses that do not enclose digits" };
  const digits = ungrouped.replace(/[\s.-]/g, "");
  if (!E164_DIGITS.test(digits)) {
    return { ok: false, reason: "is not 7 to 15 digits after the + with a country code not starting with 0" };
  }
  return { ok: true, value: `+${digits}` };
}
