/**
 * Glob patterns on topic and consumer-group names, as the bridge config writes them: `*` matches
 * any run of characters (dots and line breaks included), everything else matches itself.
 *
 * @example matchesAny(["gov.*", "audit"], "gov.auth.citizen") // true
 */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  // `s`: `*` matches line breaks too, so `*` alone really matches every name.
  return new RegExp(`^${escaped.join("(.*)")}$`, "s");
}

/** A predicate that is true when `name` matches one of `globs` (none: always false). */
export function globMatcher(globs: readonly string[]): (name: string) => boolean {
  const patterns = globs.map(globToRegExp);
  return (name) => patterns.some((p) => p.test(name));
}
