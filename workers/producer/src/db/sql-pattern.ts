/**
 * Type patterns of the admin API (`gov.auth.citizen.*`, `*`), the same glob as API-key scopes:
 * `*` matches any run of characters, everything else is literal. Turned into a SQL `LIKE`
 * pattern used with `escape '\'`.
 */
export function likePatternOf(glob: string): string {
  return glob.replace(/[\\%_]/g, (c) => `\\${c}`).replaceAll("*", "%");
}
