/**
 * EventBridge-style event patterns, as data. A pattern is an object whose keys name event
 * fields (`type`, `source`, `subject`, `data` with nested keys, …) and whose leaves are arrays
 * of matchers; a leaf matches when ANY of its matchers matches, a pattern when ALL its keys
 * match. An event field holding an array matches when any element matches.
 *
 * Matchers: a literal (exact match), `{prefix}`, `{suffix}`, `{wildcard}` (`*` = any run of
 * characters), `{"anything-but": literal | literal[] | {prefix}}`, `{exists: boolean}` and
 * `{numeric: [op, n, (op, n)?]}` with op in `= < <= > >=`.
 *
 * @example
 * matchesPattern({ type: [{ prefix: "gov.auth.citizen." }], data: { amount: [{ numeric: [">", 0] }] } }, event)
 */
import { z } from "zod";

const literalSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const numericOp = z.enum(["=", "<", "<=", ">", ">="]);

export const matcherSchema = z.union([
  literalSchema,
  z.strictObject({ prefix: z.string() }),
  z.strictObject({ suffix: z.string() }),
  z.strictObject({ wildcard: z.string() }),
  z.strictObject({
    "anything-but": z.union([literalSchema, z.array(literalSchema).min(1), z.strictObject({ prefix: z.string() })]),
  }),
  z.strictObject({ exists: z.boolean() }),
  z.strictObject({
    numeric: z.union([z.tuple([numericOp, z.number()]), z.tuple([numericOp, z.number(), numericOp, z.number()])]),
  }),
]);

export type Matcher = z.infer<typeof matcherSchema>;

export interface EventPattern {
  readonly [field: string]: readonly Matcher[] | EventPattern;
}

export const eventPatternSchema: z.ZodType<EventPattern> = z.lazy(() =>
  z.record(z.string().min(1), z.union([z.array(matcherSchema).min(1), eventPatternSchema])),
);

function compare(op: z.infer<typeof numericOp>, actual: number, expected: number): boolean {
  switch (op) {
    case "=":
      return actual === expected;
    case "<":
      return actual < expected;
    case "<=":
      return actual <= expected;
    case ">":
      return actual > expected;
    case ">=":
      return actual >= expected;
  }
}

function wildcardRegExp(glob: string): RegExp {
  const escaped = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`, "s");
}

/** One matcher against one present scalar value. */
function matchesValue(matcher: Matcher, value: unknown): boolean {
  if (matcher === null || typeof matcher !== "object") return value === matcher;
  if ("prefix" in matcher) return typeof value === "string" && value.startsWith(matcher.prefix);
  if ("suffix" in matcher) return typeof value === "string" && value.endsWith(matcher.suffix);
  if ("wildcard" in matcher) return typeof value === "string" && wildcardRegExp(matcher.wildcard).test(value);
  if ("anything-but" in matcher) {
    const rule = matcher["anything-but"];
    if (rule !== null && typeof rule === "object" && !Array.isArray(rule)) {
      return typeof value === "string" && !value.startsWith(rule.prefix);
    }
    const excluded = Array.isArray(rule) ? rule : [rule];
    return !excluded.includes(value as never);
  }
  if ("numeric" in matcher) {
    if (typeof value !== "number" || !Number.isFinite(value)) return false;
    const [op1, n1, op2, n2] = matcher.numeric;
    return compare(op1, value, n1) && (op2 === undefined || n2 === undefined || compare(op2, value, n2));
  }
  return false;
}

function matchesLeaf(matchers: readonly Matcher[], value: unknown): boolean {
  const present = value !== undefined;
  return matchers.some((matcher) => {
    if (matcher !== null && typeof matcher === "object" && "exists" in matcher) return matcher.exists === present;
    if (!present) return false;
    const values = Array.isArray(value) ? value : [value];
    return values.some((item) => matchesValue(matcher, item));
  });
}

/** True when `event` satisfies every field of `pattern`. An empty pattern matches everything. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  const fields = typeof event === "object" && event !== null ? (event as Record<string, unknown>) : {};
  return Object.entries(pattern).every(([field, condition]) => {
    const value = fields[field];
    if (Array.isArray(condition)) return matchesLeaf(condition, value);
    return typeof value === "object" && value !== null && matchesPattern(condition as EventPattern, value);
  });
}
