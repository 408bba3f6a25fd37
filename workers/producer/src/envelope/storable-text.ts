/**
 * Text Postgres cannot store. Every event ends up in Postgres (`edgebus.event_archive`, the
 * read models, `edgebus.dead_letters`), whose `text` refuses U+0000 and whose `jsonb` refuses
 * both `\u0000` and an unpaired UTF-16 surrogate (`\ud800` without its partner, which is no
 * Unicode character at all). JSON and JavaScript strings carry both happily, so an event holding
 * one would be accepted by the producer and then fail in every consumer. The producer refuses it
 * on input instead, naming where it is (`findUnstorableText`), in every envelope mode.
 *
 * Everything else Postgres takes: other control characters, noncharacters, astral characters
 * written as surrogate pairs.
 */
import { formatPath } from "#shared/catalogue/data-issues.ts";
import type { ValidationIssue } from "./validation-issues.ts";

/** At most this many places are reported (a body can hold thousands). */
export const MAX_UNSTORABLE_ISSUES = 20;

/** U+0000, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Where a JSON text's parsed value could hold such text: a `\u0000` or surrogate escape, or a raw
 * U+0000 or surrogate (a valid UTF-8 request body holds only paired ones, but this does not rely
 * on it). A false positive (an escaped backslash before `u0000`, a paired surrogate) only means
 * the value is scanned; a text without any of them cannot produce U+0000 or a lone surrogate.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what this looks for
const MAY_HOLD_UNSTORABLE = /\u0000|[\ud800-\udfff]|\\u(?:0000|[dD][89a-fA-F])/;

/** False when the value `JSON.parse(text)` gives cannot hold text Postgres refuses, so it need not be scanned. */
export function jsonTextMayHoldUnstorable(text: string): boolean {
  return MAY_HOLD_UNSTORABLE.test(text);
}

/** Why `text` cannot be stored, or undefined when it can. */
export function unstorableTextProblem(text: string): string | undefined {
  const match = UNSTORABLE.exec(text);
  if (match === null) return undefined;
  if (match[0] === "\u0000") return "contains U+0000 (NUL), which Postgres cannot store";
  const unit = match[0].charCodeAt(0).toString(16).toUpperCase();
  return `contains an unpaired surrogate (U+${unit}), which is not Unicode text and Postgres cannot store`;
}

/**
 * Every place in a JSON value (strings and object keys, at any depth) holding text Postgres cannot
 * store, at most `MAX_UNSTORABLE_ISSUES`, with paths under `root` in the notation of the other
 * validation issues (`data.address.city`, `data["na\u0000me"]`). Recursion is bounded by the body
 * depth limit the parser enforces first (`json-depth.ts`).
 */
export function findUnstorableText(value: unknown, root: readonly (string | number)[] = []): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (issues.length >= MAX_UNSTORABLE_ISSUES) return;
    if (typeof node === "string") {
      const problem = unstorableTextProblem(node);
      if (problem !== undefined) issues.push({ path: issuePath(path), message: problem });
      return;
    }
    if (typeof node !== "object" || node === null) return;
    if (Array.isArray(node)) {
      node.forEach((item, index) => {
        visit(item, [...path, index]);
      });
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      const problem = unstorableTextProblem(key);
      if (problem !== undefined && issues.length < MAX_UNSTORABLE_ISSUES) {
        issues.push({ path: issuePath([...path, key]), message: `the field name ${problem}` });
      }
      visit(child, [...path, key]);
    }
  };
  visit(value, [...root]);
  return issues;
}

/** `["data", "name"]` → `data.name`; names that are no identifier are quoted with JSON escapes. */
function issuePath(path: readonly (string | number)[]): string {
  return formatPath("", path).replace(/^\./, "");
}
