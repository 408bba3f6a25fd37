/**
 * Turns zod issues into the `{path, message}` list the producer returns in a 422 body. Paths are
 * rooted at the CloudEvent attribute (`data.email`, `data.findings[0].code`) so a client can find
 * the offending field without knowing zod.
 */
import type { z } from "zod";

export interface DataIssue {
  /** Location in the event, e.g. `data.address.postal_code`; `data` for the value as a whole. */
  readonly path: string;
  readonly message: string;
}

/** Responses stay small however broken the input: a 1 MB array of bad items yields 50 issues. */
export const MAX_REPORTED_ISSUES = 50;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** True when `path` names a key that its (existing, object) parent in `input` does not have. */
function isMissingField(input: unknown, path: readonly PropertyKey[]): boolean {
  if (path.length === 0) return input === undefined;
  let parent: unknown = input;
  for (const segment of path.slice(0, -1)) {
    if (parent === null || typeof parent !== "object") return false;
    parent = (parent as Record<PropertyKey, unknown>)[segment];
  }
  if (parent === null || typeof parent !== "object" || Array.isArray(parent)) return false;
  return !Object.hasOwn(parent, path[path.length - 1] as PropertyKey);
}

type ZodIssue = z.ZodError["issues"][number];

/** How far a union branch is from accepting the value: its issues, each unknown key counted. */
function distance(branch: readonly ZodIssue[]): number {
  return branch.reduce((sum, issue) => sum + (issue.code === "unrecognized_keys" ? issue.keys.length : 1), 0);
}

/**
 * A union none of whose branches accepted the value is reported through the branch clearly
 * closest to it (strictly fewer problems than every other: a postal address without `city` is
 * "data.address.city is missing", not "data.address is invalid"); when no branch stands out the
 * union's own issue stays (e.g. "must be an IPv4 or IPv6 address").
 */
function expandUnions(issues: readonly ZodIssue[]): ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "invalid_union" || issue.errors.length === 0) return [issue];
    const distances = issue.errors.map(distance);
    const best = Math.min(...distances);
    const closest = distances.indexOf(best);
    if (distances.lastIndexOf(best) !== closest) return [issue];
    const branch = issue.errors[closest] ?? [];
    return expandUnions(branch.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as ZodIssue));
  });
}

/** `input` is the value that was validated; it lets a missing field be told apart from a wrong one. */
export function toDataIssues(error: z.ZodError, input: unknown, root = "data"): DataIssue[] {
  const issues: DataIssue[] = [];
  for (const issue of expandUnions(error.issues)) {
    if (issue.code === "unrecognized_keys") {
      // One issue per unknown field, pointing at the field itself rather than its parent.
      for (const key of issue.keys)
        issues.push({ path: formatPath(root, [...issue.path, key]), message: "unknown field" });
    } else if (issue.code === "invalid_type" && isMissingField(input, issue.path)) {
      issues.push({ path: formatPath(root, issue.path), message: `required field is missing (${issue.expected})` });
    } else {
      issues.push({ path: formatPath(root, issue.path), message: issue.message });
    }
    if (issues.length >= MAX_REPORTED_ISSUES) break;
  }
  return issues.slice(0, MAX_REPORTED_ISSUES);
}
