import type { z } from "zod";
import { formatPath } from "#shared/catalogue/data-issues.ts";

/** One failing field, as reported to clients in `error.details.issues`. */
export interface ValidationIssue {
  /** Path of the failing field (`eventversion`, `source.service`, `[3].id`), "" for the whole value. */
  path: string;
  message: string;
}

/** zod issues → `{path, message}` list, in the same path notation as the catalogue's data issues. */
export function toValidationIssues(issues: readonly z.core.$ZodIssue[]): ValidationIssue[] {
  return issues.map((issue) => ({ path: formatPath("", issue.path).replace(/^\./, ""), message: issue.message }));
}
