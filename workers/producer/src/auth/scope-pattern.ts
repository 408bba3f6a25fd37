/**
 * Scope patterns of API keys (`sources`, `types`) are segment globs:
 *
 * - a value is split into segments: a `source` at `/` (`/services/permits/eu` → "", "services",
 *   "permits", "eu"), a `type` at `.` (`gov.permits.application.submitted`);
 * - `*` matches any run of characters within one segment (`/services/permits*` admits
 *   `/services/permits-2`, not `/services/permits/eu`; `gov.permits.*` admits
 *   `gov.permits.application`, not `gov.permits.application.submitted`);
 * - `**`, as a whole segment, matches any number of whole segments, none included
 *   (`/services/revenue/**` admits `/services/revenue` and `/services/revenue/eu/1`, never
 *   `/services/revenue-evil`; `gov.permits.**` admits every permits type; `**` admits anything);
 * - everything else is literal.
 *
 * Matching is linear in the value for a given pattern (a greedy scan that only ever backs up to
 * the last `**` / `*`), never a regular expression: a pathological pattern cannot be made to
 * backtrack on a long `source`.
 *
 * Before, `*` matched any run of characters, across `/` and `.`: `scripts/keys-check.ts`
 * (`npx tsx scripts/api-key.ts check`) lists the configured patterns whose meaning changed.
 */
import { unstorableTextProblem } from "../envelope/storable-text.ts";

export type ScopeKind = "source" | "type";

/** The segment separator of each kind of value. */
export const SCOPE_SEPARATORS: Readonly<Record<ScopeKind, string>> = { source: "/", type: "." };

/** Longest pattern: the longest value of the kind (`http-binding.ts` limits `source` and `type`). */
const MAX_PATTERN_LENGTH: Readonly<Record<ScopeKind, number>> = { source: 1024, type: 256 };

const GLOBSTAR = "**";

/** `https:` in `https://host/…`: the one place a source may hold an empty segment (the `//`). */
const SCHEME_SEGMENT = /^[A-Za-z][A-Za-z0-9+.-]*:$/;

/** `.` or `..`, also percent-encoded (`%2e%2E`), which a URI resolver would treat the same. */
function isDotSegment(segment: string): boolean {
  const decoded = segment.replace(/%2e/gi, ".");
  return decoded === "." || decoded === "..";
}

/**
 * Why the segments of a source or source pattern are unusable: an empty segment (`//`, a
 * trailing `/`) other than a leading `/` or the `//` after a URI scheme, or a `.`/`..` segment.
 */
function sourceSegmentsProblem(segments: readonly string[]): string | undefined {
  for (const [index, segment] of segments.entries()) {
    if (isDotSegment(segment)) return `has a '${segment.replace(/%2e/gi, ".")}' segment`;
    if (segment !== "") continue;
    const leading = index === 0 && segments.length > 1;
    const afterScheme = index === 1 && SCHEME_SEGMENT.test(segments[0] ?? "") && segments.length > 2;
    if (!leading && !afterScheme) return "has an empty segment ('//' or a trailing '/')";
  }
  return undefined;
}

/**
 * Why an event `source` is refused before any scope is looked at, or undefined: scopes match by
 * segment, and a `..`, `.` or empty segment would let a source that a pattern admits name another
 * path for whoever resolves it (`/services/revenue/../identity`).
 */
export function sourceProblem(source: string): string | undefined {
  const problem = sourceSegmentsProblem(source.split(SCOPE_SEPARATORS.source));
  return problem === undefined ? undefined : `source ${problem}; send the path without it`;
}

/** Why `pattern` is not a valid scope pattern of `kind`, or undefined. */
export function scopePatternProblem(pattern: string, kind: ScopeKind): string | undefined {
  if (pattern === "") return "is empty";
  if (pattern.length > MAX_PATTERN_LENGTH[kind]) return `is longer than ${MAX_PATTERN_LENGTH[kind]} characters`;
  const text = unstorableTextProblem(pattern);
  if (text !== undefined) return text;
  const segments = pattern.split(SCOPE_SEPARATORS[kind]);
  if (segments.some((segment) => segment.includes(GLOBSTAR) && segment !== GLOBSTAR)) {
    return `${GLOBSTAR} must be a whole segment (between '${SCOPE_SEPARATORS[kind]}'s)`;
  }
  if (kind === "source") return sourceSegmentsProblem(segments);
  if (segments.some((segment) => segment === "")) return "has an empty segment ('..', or a leading or trailing '.')";
  return undefined;
}

/** True when `text` matches one segment's glob, where `*` is any run of characters. */
function segmentMatches(glob: string, text: string): boolean {
  const parts = glob.split("*");
  if (parts.length === 1) return glob === text;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  // Each middle part at its leftmost place after the previous one: leaving the most room for the
  // rest is always right for `*`-only globs, so no choice is ever revisited.
  let at = first.length;
  const end = text.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = text.indexOf(part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/**
 * True when `value` matches `pattern` (see the module comment). Segments are compared with the
 * classic wildcard scan at segment level: on a mismatch it resumes just after the last `**`,
 * which then absorbs one more segment; earlier choices are never revisited.
 */
export function scopePatternMatches(pattern: string, value: string, kind: ScopeKind): boolean {
  const separator = SCOPE_SEPARATORS[kind];
  const globs = pattern.split(separator);
  const segments = value.split(separator);
  let g = 0;
  let s = 0;
  let starGlob = -1;
  let starSegment = 0;
  while (s < segments.length) {
    if (g < globs.length && globs[g] === GLOBSTAR) {
      starGlob = g;
      starSegment = s;
      g += 1;
    } else if (g < globs.length && segmentMatches(globs[g] as string, segments[s] as string)) {
      g += 1;
      s += 1;
    } else if (starGlob >= 0) {
      g = starGlob + 1;
      starSegment += 1;
      s = starSegment;
    } else {
      return false;
    }
  }
  while (g < globs.length && globs[g] === GLOBSTAR) g += 1;
  return g === globs.length;
}
