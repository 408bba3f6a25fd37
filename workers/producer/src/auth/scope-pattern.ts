/** `*` matches any run of characters; everything else is literal. `gov.permits.*` ⊇ `gov.permits.application.submitted`. */
export function scopePatternMatches(pattern: string, value: string): boolean {
  const parts = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`, "s").test(value);
}
