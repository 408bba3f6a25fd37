import type { z } from "zod";

/** One failing field, as reported to clients in `error.details.issues`. */
export interface ValidationIssue {
  /** Dotted path of the failing field (`data.address.postcode`, `[3].id`), "" for the whole value. */
  path: string;
  message: string;
}

function renderPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** zod issues → `{path, message}` list, paths prefixed (e.g. with `data`). */
export function toValidationIssues(issues: readonly z.core.$ZodIssue[], prefix = ""): ValidationIssue[] {
  return issues.map((issue) => ({ path: renderPath(prefix, issue.path), message: issue.message }));
}
