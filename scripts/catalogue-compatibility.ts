/**
 * The catalogue's compatibility check, run by the tests (`schemas/index.test.ts`) and never by a
 * Worker. Schema evolution rule of the catalogue: a new version of an event type must be BACKWARD
 * compatible with the previous one, meaning the new schema accepts every `data` the old schema
 * accepted. That is the direction edgebus needs: events already written under an old version sit
 * in Kafka, the archive and the dead-letter table, and replaying them runs them through the
 * current catalogue (`Catalogue.validateData` validates against the current version only).
 * Consumers upgrade by reading the new schema, which still understands every old event.
 *
 * Breaking, therefore: removing a field (objects are closed, so its old values are now
 * "unknown field"), making a field required or adding a required field, and narrowing any type —
 * enum values removed, a string becoming a literal, number becoming integer, bounds tightened,
 * a new or different pattern/format, `null` no longer allowed, a union branch dropped.
 * Compatible: adding an optional field, widening enums and bounds, allowing `null`.
 *
 * The comparison works on JSON Schema (`z.toJSONSchema`, input side) so it judges exactly what
 * clients see. Where it cannot prove the new schema is at least as permissive (e.g. a changed
 * regex) it reports a breaking change: a false alarm costs a review, a missed break loses events.
 */
import type { z } from "zod";
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { type JsonSchema, toInputJsonSchema } from "#shared/catalogue/event-json-schema.ts";

export type { JsonSchema };

export type BreakingChangeKind =
  | "field_removed"
  | "field_required"
  | "type_narrowed"
  | "nullable_removed"
  | "enum_narrowed"
  | "bound_tightened"
  | "pattern_changed"
  | "format_changed"
  | "properties_closed"
  | "union_branch_removed"
  | "unsupported_change";

export interface BreakingChange {
  /** Where in `data` the change is, e.g. `data.address.country`, `data.lines[]`. */
  readonly path: string;
  readonly kind: BreakingChangeKind;
  readonly message: string;
}

/** Breaking changes between two zod schemas of the same event `data`; empty = compatible. */
export function breakingChanges(previous: z.ZodType, next: z.ZodType): BreakingChange[] {
  return compareJsonSchemas(toInputJsonSchema(previous), toInputJsonSchema(next));
}

export interface VersionIncompatibility {
  readonly type: string;
  readonly from: number;
  readonly to: number;
  readonly changes: BreakingChange[];
}

/** Checks every consecutive pair of versions of every type in `catalogue`. */
export function catalogueIncompatibilities(catalogue: Catalogue): VersionIncompatibility[] {
  const found: VersionIncompatibility[] = [];
  for (const type of catalogue.types()) {
    const versions = catalogue.versionsOf(type);
    for (let i = 1; i < versions.length; i++) {
      const older = versions[i - 1];
      const newer = versions[i];
      if (!older || !newer) continue;
      const changes = breakingChanges(older.data, newer.data);
      if (changes.length > 0) found.push({ type, from: older.version, to: newer.version, changes });
    }
  }
  return found;
}

/**
 * Breaking changes for readers validating with `next` the values `previous` accepted. `$ref`s are
 * resolved against each document's own `$defs`.
 */
export function compareJsonSchemas(previous: JsonSchema, next: JsonSchema, path = "data"): BreakingChange[] {
  return new Comparison(previous, next).compare(previous, next, path, 0);
}

/** Changes meaning "this branch is a different kind of value", as opposed to a tightened one. */
const SHAPE_CHANGES: ReadonlySet<BreakingChangeKind> = new Set([
  "type_narrowed",
  "nullable_removed",
  "union_branch_removed",
]);

function isSameKind(changes: readonly BreakingChange[], path: string): boolean {
  return changes.every((c) => !SHAPE_CHANGES.has(c.kind) || c.path !== path);
}

/** Deeper nesting than this only happens with recursive schemas; stop rather than loop. */
const MAX_DEPTH = 64;

class Comparison {
  private readonly previousRoot: JsonSchema;
  private readonly nextRoot: JsonSchema;

  constructor(previousRoot: JsonSchema, nextRoot: JsonSchema) {
    this.previousRoot = previousRoot;
    this.nextRoot = nextRoot;
  }

  compare(oldIn: JsonSchema | boolean, newIn: JsonSchema | boolean, path: string, depth: number): BreakingChange[] {
    const previous = this.resolve(oldIn, this.previousRoot);
    const next = this.resolve(newIn, this.nextRoot);
    if (next === true || isAnything(next)) return [];
    if (previous === false) return []; // old accepted nothing, so nothing can break
    if (depth > MAX_DEPTH) return [change(path, "unsupported_change", "schema nested too deeply to compare")];
    if (previous === true || isAnything(previous)) {
      return [change(path, "type_narrowed", "accepted any value, now constrained")];
    }
    if (next === false) return [change(path, "type_narrowed", "no longer accepts any value")];

    if (previous.allOf || next.allOf || previous.not || next.not) {
      return JSON.stringify(previous) === JSON.stringify(next)
        ? []
        : [change(path, "unsupported_change", "allOf/not changed; cannot prove compatibility")];
    }

    const oldBranches = branchesOf(previous);
    const newBranches = branchesOf(next);
    if (oldBranches.length > 1 || newBranches.length > 1) {
      return this.compareUnions(oldBranches, newBranches, path, depth);
    }
    return this.compareSingle(previous, next, path, depth);
  }

  /** Every old branch must be accepted by at least one new branch. */
  private compareUnions(oldBranches: JsonSchema[], newBranches: JsonSchema[], path: string, depth: number) {
    const changes: BreakingChange[] = [];
    for (const oldBranch of oldBranches) {
      let best: BreakingChange[] | undefined;
      let bestScore = Number.POSITIVE_INFINITY;
      for (const newBranch of newBranches) {
        const found = this.compare(oldBranch, newBranch, path, depth + 1);
        // A branch of the same kind of value beats one of another kind, however many changes.
        const score = (isSameKind(found, path) ? 0 : 1_000_000) + found.length;
        if (score < bestScore) [best, bestScore] = [found, score];
        if (found.length === 0) break;
      }
      if (best === undefined || best.length === 0) continue;
      // The closest new branch of the same kind explains the break best (`data.address.country`
      // tightened rather than "the object branch disappeared").
      const sameKind = isSameKind(best, path);
      if (oldBranch.type === "null") changes.push(change(path, "nullable_removed", "null is no longer allowed"));
      else if (sameKind || newBranches.length === 1) changes.push(...best);
      else
        changes.push(
          change(path, "union_branch_removed", `no alternative accepts ${describeSchema(oldBranch)} any more`),
        );
    }
    return changes;
  }

  private compareSingle(previous: JsonSchema, next: JsonSchema, path: string, depth: number): BreakingChange[] {
    const changes: BreakingChange[] = [];
    const oldTypes = typesOf(previous) ?? inferTypes(previous);
    const newTypes = typesOf(next);
    if (newTypes) {
      if (!oldTypes) {
        changes.push(change(path, "type_narrowed", `accepted any type, now only ${newTypes.join(" | ")}`));
      } else {
        for (const t of oldTypes) {
          if (newTypes.includes(t) || (t === "integer" && newTypes.includes("number"))) continue;
          if (t === "null") changes.push(change(path, "nullable_removed", "null is no longer allowed"));
          else if (t === "number" && newTypes.includes("integer")) {
            changes.push(change(path, "type_narrowed", "number narrowed to integer"));
          } else
            changes.push(change(path, "type_narrowed", `${t} is no longer accepted (now ${newTypes.join(" | ")})`));
        }
      }
    }

    const oldValues = allowedValues(previous);
    const newValues = allowedValues(next);
    if (newValues) {
      if (!oldValues) {
        changes.push(
          change(path, "enum_narrowed", `now restricted to ${newValues.map((v) => JSON.stringify(v)).join(", ")}`),
        );
      } else {
        const removed = oldValues.filter((v) => !newValues.some((n) => sameValue(n, v)));
        if (removed.length > 0) {
          changes.push(
            change(path, "enum_narrowed", `values removed: ${removed.map((v) => JSON.stringify(v)).join(", ")}`),
          );
        }
      }
    }
    if (oldValues && !newValues) {
      // The old schema accepted a finite set: check each value against the new constraints
      // directly instead of comparing keywords (a literal "system" can still match a pattern).
      for (const value of oldValues) {
        if (!primitiveAccepted(value, next)) {
          changes.push(change(path, "type_narrowed", `value ${JSON.stringify(value)} is no longer accepted`));
        }
      }
      return changes;
    }

    changes.push(...compareBounds(previous, next, path));
    if (next.pattern !== undefined && next.pattern !== previous.pattern) {
      changes.push(
        change(path, "pattern_changed", previous.pattern === undefined ? "pattern added" : "pattern changed"),
      );
    }
    if (next.format !== undefined && next.format !== previous.format) {
      changes.push(
        change(
          path,
          "format_changed",
          previous.format === undefined ? `format "${next.format}" added` : "format changed",
        ),
      );
    }
    if (next.multipleOf !== undefined && next.multipleOf !== previous.multipleOf) {
      const ok = previous.multipleOf !== undefined && Number.isInteger(previous.multipleOf / next.multipleOf);
      if (!ok) changes.push(change(path, "bound_tightened", `multipleOf ${next.multipleOf} added or changed`));
    }
    if (next.uniqueItems === true && previous.uniqueItems !== true) {
      changes.push(change(path, "bound_tightened", "items must now be unique"));
    }

    changes.push(...this.compareObjects(previous, next, path, depth));
    if (previous.items !== undefined || next.items !== undefined) {
      changes.push(...this.compare(previous.items ?? true, next.items ?? true, `${path}[]`, depth + 1));
    }
    if (next.prefixItems || previous.prefixItems) {
      if (JSON.stringify(previous.prefixItems) !== JSON.stringify(next.prefixItems)) {
        changes.push(change(path, "unsupported_change", "tuple items changed; cannot prove compatibility"));
      }
    }
    return changes;
  }

  private compareObjects(previous: JsonSchema, next: JsonSchema, path: string, depth: number): BreakingChange[] {
    const changes: BreakingChange[] = [];
    const oldProperties = previous.properties ?? {};
    const newProperties = next.properties ?? {};
    const oldAdditional = previous.additionalProperties ?? true;
    const newAdditional = next.additionalProperties ?? true;
    for (const [key, oldProperty] of Object.entries(oldProperties)) {
      const at = `${path}.${key}`;
      const newProperty = newProperties[key];
      if (newProperty !== undefined) changes.push(...this.compare(oldProperty, newProperty, at, depth + 1));
      else if (newAdditional === false) changes.push(change(at, "field_removed", "field removed"));
      else changes.push(...this.compare(oldProperty, newAdditional, at, depth + 1));
    }
    for (const [key, newProperty] of Object.entries(newProperties)) {
      // A key the old schema let through as an "additional" property must still be accepted.
      if (!(key in oldProperties) && oldAdditional !== false) {
        changes.push(...this.compare(oldAdditional, newProperty, `${path}.${key}`, depth + 1));
      }
    }
    const oldRequired = new Set(previous.required ?? []);
    for (const key of next.required ?? []) {
      if (oldRequired.has(key)) continue;
      const message = key in oldProperties ? "optional field made required" : "new required field";
      changes.push(change(`${path}.${key}`, "field_required", message));
    }
    if (oldAdditional !== false && acceptsObjects(previous)) {
      if (newAdditional === false)
        changes.push(change(path, "properties_closed", "additional properties no longer allowed"));
      else changes.push(...this.compare(oldAdditional, newAdditional, `${path}.*`, depth + 1));
    }
    if (previous.propertyNames !== undefined || next.propertyNames !== undefined) {
      changes.push(
        ...this.compare(previous.propertyNames ?? true, next.propertyNames ?? true, `${path}{key}`, depth + 1),
      );
    }
    return changes;
  }

  private resolve(schema: JsonSchema | boolean, root: JsonSchema): JsonSchema | boolean {
    let current = schema;
    for (let hops = 0; typeof current === "object" && current.$ref !== undefined; hops++) {
      const match = /^#\/\$defs\/(.+)$/.exec(current.$ref);
      const target =
        match?.[1] !== undefined ? (root.$defs as Record<string, JsonSchema> | undefined)?.[match[1]] : undefined;
      if (target === undefined || hops > MAX_DEPTH) return true; // unresolvable: treated as "anything"
      const { $ref: _, ...rest } = current;
      current = Object.keys(rest).length > 0 ? { ...target, ...rest } : target;
    }
    return current;
  }
}

function change(path: string, kind: BreakingChangeKind, message: string): BreakingChange {
  return { path, kind, message };
}

/** Keywords that carry no constraint (annotations). */
const ANNOTATIONS = new Set(["$schema", "$id", "$defs", "title", "description", "examples", "default", "deprecated"]);

function isAnything(schema: JsonSchema | boolean): boolean {
  return schema === true || (typeof schema === "object" && Object.keys(schema).every((k) => ANNOTATIONS.has(k)));
}

function acceptsObjects(schema: JsonSchema): boolean {
  const types = typesOf(schema) ?? inferTypes(schema);
  return types === undefined || types.includes("object");
}

/** Alternatives of a schema: `anyOf`/`oneOf` branches, and one branch per type of a type list. */
function branchesOf(schema: JsonSchema): JsonSchema[] {
  const union = schema.anyOf ?? schema.oneOf;
  if (!union) {
    if (!Array.isArray(schema.type) || schema.type.length < 2) return [schema];
    return schema.type.map((type) => ({ ...schema, type }));
  }
  const { anyOf: _a, oneOf: _o, ...rest } = schema;
  // Keywords beside anyOf apply to every branch.
  return union.flatMap((branch) => branchesOf(Object.keys(rest).length > 0 ? { ...rest, ...branch } : branch));
}

function typesOf(schema: JsonSchema): string[] | undefined {
  if (schema.type === undefined) return undefined;
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

/** Types of a schema that has only `const`/`enum` and no `type`. */
function inferTypes(schema: JsonSchema): string[] | undefined {
  const values = allowedValues(schema);
  if (!values) return undefined;
  return [...new Set(values.map(jsonTypeOf))];
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function allowedValues(schema: JsonSchema): unknown[] | undefined {
  if (schema.enum) return schema.enum;
  if ("const" in schema) return [schema.const];
  return undefined;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeSchema(schema: JsonSchema): string {
  const values = allowedValues(schema);
  if (values) return values.map((v) => JSON.stringify(v)).join(" | ");
  return typesOf(schema)?.join(" | ") ?? "some values";
}

/** Whether a string/number value satisfies `schema`'s value keywords; other values are not judged. */
function primitiveAccepted(value: unknown, schema: JsonSchema): boolean {
  if (typeof value === "string") {
    if (schema.format !== undefined) return false; // formats are not re-implemented here: assume it may fail
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) return false;
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) return false;
    if (schema.maxLength !== undefined && length > schema.maxLength) return false;
  }
  if (typeof value === "number") {
    const lower = lowerBound(schema, "minimum", "exclusiveMinimum");
    const upper = upperBound(schema, "maximum", "exclusiveMaximum");
    if (lower && (value < lower.value || (lower.exclusive && value === lower.value))) return false;
    if (upper && (value > upper.value || (upper.exclusive && value === upper.value))) return false;
    if (schema.multipleOf !== undefined && !Number.isInteger(value / schema.multipleOf)) return false;
  }
  return true;
}

interface Bound {
  value: number;
  exclusive: boolean;
}

function lowerBound(schema: JsonSchema, inclusive: string, exclusive: string): Bound | undefined {
  const a = schema[inclusive];
  const b = schema[exclusive];
  const candidates: Bound[] = [];
  if (typeof a === "number") candidates.push({ value: a, exclusive: false });
  if (typeof b === "number") candidates.push({ value: b, exclusive: true });
  return candidates.sort((x, y) => y.value - x.value || Number(y.exclusive) - Number(x.exclusive))[0];
}

function upperBound(schema: JsonSchema, inclusive: string, exclusive: string): Bound | undefined {
  const a = schema[inclusive];
  const b = schema[exclusive];
  const candidates: Bound[] = [];
  if (typeof a === "number") candidates.push({ value: a, exclusive: false });
  if (typeof b === "number") candidates.push({ value: b, exclusive: true });
  return candidates.sort((x, y) => x.value - y.value || Number(y.exclusive) - Number(x.exclusive))[0];
}

function lowerTightened(previous: Bound | undefined, next: Bound | undefined): boolean {
  if (!next) return false;
  if (!previous) return true;
  return next.value > previous.value || (next.value === previous.value && next.exclusive && !previous.exclusive);
}

function upperTightened(previous: Bound | undefined, next: Bound | undefined): boolean {
  if (!next) return false;
  if (!previous) return true;
  return next.value < previous.value || (next.value === previous.value && next.exclusive && !previous.exclusive);
}

const BOUNDS: [label: string, min: string, exclusiveMin: string, max: string, exclusiveMax: string][] = [
  ["value", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"],
  ["length", "minLength", "", "maxLength", ""],
  ["item count", "minItems", "", "maxItems", ""],
  ["property count", "minProperties", "", "maxProperties", ""],
];

function compareBounds(previous: JsonSchema, next: JsonSchema, path: string): BreakingChange[] {
  const changes: BreakingChange[] = [];
  for (const [label, min, exclusiveMin, max, exclusiveMax] of BOUNDS) {
    const oldLower = lowerBound(previous, min, exclusiveMin);
    const newLower = lowerBound(next, min, exclusiveMin);
    if (lowerTightened(oldLower, newLower)) {
      changes.push(change(path, "bound_tightened", `minimum ${label} raised to ${formatBound(newLower, ">")}`));
    }
    const oldUpper = upperBound(previous, max, exclusiveMax);
    const newUpper = upperBound(next, max, exclusiveMax);
    if (upperTightened(oldUpper, newUpper)) {
      changes.push(change(path, "bound_tightened", `maximum ${label} lowered to ${formatBound(newUpper, "<")}`));
    }
  }
  return changes;
}

function formatBound(bound: Bound | undefined, symbol: ">" | "<"): string {
  if (!bound) return "none";
  return `${symbol}${bound.exclusive ? "" : "="} ${bound.value}`;
}
