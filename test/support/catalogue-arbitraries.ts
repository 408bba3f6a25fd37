/**
 * fast-check support for property tests over a catalogue: arbitraries of VALID `data` for any
 * event type, and single-field corruptions of valid data that the catalogue must reject.
 *
 * Both are derived from the JSON Schema of the type's zod schema (`z.toJSONSchema`, input side),
 * never written per type, so a new or changed type is covered without touching this file. A
 * schema construct this module does not understand throws, rather than silently generating
 * something weaker.
 */
import fc from "fast-check";
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { formatPath } from "#shared/catalogue/data-issues.ts";
import { type JsonSchema, toInputJsonSchema } from "#shared/catalogue/event-json-schema.ts";

/** Arrays and records stay small: the properties are about shape, not volume. */
const MAX_GENERATED_ITEMS = 4;

/** Arbitrary of values that satisfy `schema` (the subset of JSON Schema zod emits). */
export function arbitraryFromJsonSchema(schema: JsonSchema | boolean, where = "data"): fc.Arbitrary<unknown> {
  if (schema === true) return fc.jsonValue();
  if (schema === false) throw new Error(`${where}: schema accepts nothing`);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const { anyOf: _a, oneOf: _o, ...rest } = schema;
    return fc.oneof(...branches.map((b) => arbitraryFromJsonSchema({ ...rest, ...b }, where)));
  }
  if (schema.allOf || schema.not || schema.$ref) throw new Error(`${where}: allOf/not/$ref are not supported`);
  if ("const" in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (Array.isArray(schema.type)) {
    return fc.oneof(...schema.type.map((type) => arbitraryFromJsonSchema({ ...schema, type }, where)));
  }
  switch (schema.type) {
    case undefined:
      if (Object.keys(schema).every((k) => k === "description" || k === "title")) return fc.jsonValue();
      throw new Error(`${where}: schema without a type: ${JSON.stringify(schema)}`);
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return integerArbitrary(schema);
    case "number":
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        ...(schema.minimum === undefined ? {} : { min: schema.minimum }),
        ...(schema.exclusiveMinimum === undefined ? {} : { min: schema.exclusiveMinimum, minExcluded: true }),
        ...(schema.maximum === undefined ? {} : { max: schema.maximum }),
        ...(schema.exclusiveMaximum === undefined ? {} : { max: schema.exclusiveMaximum, maxExcluded: true }),
      });
    case "string":
      return stringArbitrary(schema, where);
    case "array": {
      if (schema.prefixItems) throw new Error(`${where}: tuples are not supported`);
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? Number.POSITIVE_INFINITY, minLength + MAX_GENERATED_ITEMS);
      return fc.array(arbitraryFromJsonSchema(schema.items ?? true, `${where}[]`), { minLength, maxLength });
    }
    case "object":
      return objectArbitrary(schema, where);
    default:
      throw new Error(`${where}: unsupported type ${JSON.stringify(schema.type)}`);
  }
}

function integerArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  let min = Math.max(schema.minimum ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
  let max = Math.min(schema.maximum ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (schema.exclusiveMinimum !== undefined) min = Math.max(min, Math.floor(schema.exclusiveMinimum) + 1);
  if (schema.exclusiveMaximum !== undefined) max = Math.min(max, Math.ceil(schema.exclusiveMaximum) - 1);
  // fc.integer is limited to 32 bits; ids and amounts use the whole safe-integer range.
  return fc.bigInt({ min: BigInt(Math.ceil(min)), max: BigInt(Math.floor(max)) }).map(Number);
}

function stringArbitrary(schema: JsonSchema, where: string): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength;
  if (schema.pattern !== undefined) {
    // Every format zod emits comes with the pattern that implements it.
    const pattern = new RegExp(schema.pattern);
    return fc
      .stringMatching(pattern)
      .filter((s) => s.length >= minLength && (maxLength === undefined || s.length <= maxLength));
  }
  if (schema.format !== undefined) throw new Error(`${where}: format "${schema.format}" without a pattern`);
  return fc.string({ minLength, ...(maxLength === undefined ? {} : { maxLength }) });
}

function objectArbitrary(schema: JsonSchema, where: string): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries(properties)) {
    model[key] = arbitraryFromJsonSchema(property, `${where}.${key}`);
  }
  const fixed = fc.record(model, { requiredKeys: schema.required ?? [] }) as fc.Arbitrary<Record<string, unknown>>;
  const additional = schema.additionalProperties;
  if (additional === false || additional === undefined) return fixed;
  // A record (`z.record`/`z.partialRecord`): extra keys from `propertyNames`, values from the schema.
  const keys = schema.propertyNames
    ? (arbitraryFromJsonSchema(schema.propertyNames, `${where}{key}`) as fc.Arbitrary<string>)
    : fc.string({ minLength: 1, maxLength: 20 });
  const extra = fc.dictionary(
    keys.filter((k) => !(k in properties) && k !== "__proto__"),
    arbitraryFromJsonSchema(additional, `${where}.*`),
    { maxKeys: MAX_GENERATED_ITEMS },
  );
  return fc.tuple(fixed, extra).map(([a, b]) => ({ ...b, ...a }));
}

/** Arbitrary of valid `data` for `type`. */
export function validDataArbitrary(catalogue: Catalogue, type: string): fc.Arbitrary<unknown> {
  return arbitraryFromJsonSchema(toInputJsonSchema(catalogue.require(type).data));
}

/** Arbitrary of `{type, data}` with valid data, over every type of `catalogue`. */
export function validEventDataArbitrary(catalogue: Catalogue): fc.Arbitrary<{ type: string; data: unknown }> {
  return fc.oneof(
    ...catalogue.types().map((type) => validDataArbitrary(catalogue, type).map((data) => ({ type, data }))),
  );
}

export type CorruptionKind =
  | "wrong_type"
  | "missing_required_field"
  | "unknown_field"
  | "out_of_enum"
  | "malformed_string"
  | "out_of_range";

export interface Corruption {
  readonly kind: CorruptionKind;
  /** The corrupted location as the catalogue reports it (`data.address.city`). */
  readonly path: string;
  /** The whole `data` value with exactly this one field corrupted. */
  readonly data: unknown;
}

/**
 * Every single-field corruption of `data` (valid for `schema`) that the schema must reject:
 * a wrong JSON type, a removed required field, an added unknown field, a value outside an enum,
 * a malformed formatted/patterned string, a number outside its bounds.
 */
export function corruptionsOf(schema: JsonSchema, data: unknown): Corruption[] {
  const found: Corruption[] = [];
  visit(schema, data, [], (kind, path, replace) => {
    found.push({ kind, path: formatPath("data", path), data: replace(structuredClone(data)) });
  });
  return found;
}

/** Arbitrary of a corrupted `data` value for `type`, with what was corrupted. */
export function corruptedDataArbitrary(catalogue: Catalogue, type: string): fc.Arbitrary<Corruption> {
  const schema = toInputJsonSchema(catalogue.require(type).data);
  return arbitraryFromJsonSchema(schema).chain((data) => fc.constantFrom(...corruptionsOf(schema, data)));
}

type Report = (kind: CorruptionKind, path: PropertyKey[], replace: (root: unknown) => unknown) => void;

/** Values of each JSON type, for "wrong type" corruptions. */
const SAMPLES: [type: string, value: unknown][] = [
  ["string", "corrupted"],
  ["integer", 12345],
  ["boolean", true],
  ["object", { corrupted: true }],
  ["array", ["corrupted"]],
  ["null", null],
];

/** Strings that are malformed for any realistic pattern or format in the catalogue. */
const MALFORMED_STRINGS = ["not valid!", "", " ", "x".repeat(300)];

function accepts(types: ReadonlySet<string>, type: string): boolean {
  return types.has(type) || (type === "integer" && types.has("number"));
}

/** The branches of a schema (anyOf/oneOf and type lists) with no nesting. */
function flatBranches(schema: JsonSchema): JsonSchema[] {
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    const { anyOf: _a, oneOf: _o, ...rest } = schema;
    return union.flatMap((b) => flatBranches({ ...rest, ...b }));
  }
  if (Array.isArray(schema.type)) return schema.type.map((type) => ({ ...schema, type }));
  return [schema];
}

function branchTypes(branches: readonly JsonSchema[]): Set<string> | undefined {
  const types = new Set<string>();
  for (const branch of branches) {
    if (typeof branch.type === "string") types.add(branch.type);
    else if ("const" in branch || branch.enum) {
      for (const value of "const" in branch ? [branch.const] : (branch.enum ?? [])) types.add(jsonTypeOf(value));
    } else return undefined; // an unconstrained branch: every type is fine
  }
  return types;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Whether `value` satisfies a string branch's own keywords (enum/const, pattern, length). */
function stringBranchAccepts(branch: JsonSchema, value: string): boolean {
  if (branch.type !== "string" && !("const" in branch) && !branch.enum) return false;
  if ("const" in branch) return branch.const === value;
  if (branch.enum) return branch.enum.includes(value);
  if (branch.pattern !== undefined && !new RegExp(branch.pattern).test(value)) return false;
  if (branch.minLength !== undefined && value.length < branch.minLength) return false;
  if (branch.maxLength !== undefined && value.length > branch.maxLength) return false;
  return true;
}

/** A key the object schema rejects: any new key when closed, else one its `propertyNames` refuse. */
function unknownKeyFor(schema: JsonSchema): string | undefined {
  const properties = schema.properties ?? {};
  if (schema.additionalProperties === false) return "unexpected_field" in properties ? undefined : "unexpected_field";
  if (schema.propertyNames === undefined) return undefined;
  const names = flatBranches(schema.propertyNames);
  return ["unexpected_field", "Not A Key!"].find(
    (key) => !(key in properties) && !names.some((b) => stringBranchAccepts(b, key)),
  );
}

function set(root: unknown, path: readonly PropertyKey[], value: unknown): unknown {
  if (path.length === 0) return value;
  let parent = root as Record<PropertyKey, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<PropertyKey, unknown>;
  parent[path[path.length - 1] as PropertyKey] = value;
  return root;
}

/** Whether `record` has the object branch's required keys and, when it is closed, no others. */
function fitsShape(branch: JsonSchema, record: Record<string, unknown>): boolean {
  const properties = branch.properties ?? {};
  if (!(branch.required ?? []).every((key) => Object.hasOwn(record, key))) return false;
  return branch.additionalProperties !== false || Object.keys(record).every((key) => key in properties);
}

function visit(schema: JsonSchema | boolean, value: unknown, path: PropertyKey[], report: Report): void {
  if (typeof schema === "boolean") return;
  const branches = flatBranches(schema);
  const types = branchTypes(branches);

  if (types) {
    const wrong = SAMPLES.find(([type]) => !accepts(types, type));
    if (wrong) report("wrong_type", path, (root) => set(root, path, wrong[1]));
  }

  const valueType = jsonTypeOf(value);
  const matching = branches.filter((b) => typeof b.type === "string" && accepts(new Set([b.type]), valueType));
  if (typeof value === "string") {
    const stringBranches = branches.filter((b) => b.type === "string" || "const" in b || b.enum);
    const finite = stringBranches.every((b) => "const" in b || b.enum);
    const constrained = stringBranches.every(
      (b) =>
        "const" in b || b.enum || b.pattern !== undefined || b.minLength !== undefined || b.maxLength !== undefined,
    );
    if (constrained && stringBranches.length > 0) {
      const bad = [finite ? "__not_in_enum__" : undefined, ...MALFORMED_STRINGS].find(
        (candidate) => candidate !== undefined && !stringBranches.some((b) => stringBranchAccepts(b, candidate)),
      );
      if (bad !== undefined) report(finite ? "out_of_enum" : "malformed_string", path, (root) => set(root, path, bad));
    }
    return;
  }
  if (typeof value === "number") {
    const numeric = branches.filter((b) => b.type === "integer" || b.type === "number");
    const lowest = Math.min(...numeric.map((b) => b.minimum ?? b.exclusiveMinimum ?? Number.NEGATIVE_INFINITY));
    if (numeric.length > 0 && Number.isFinite(lowest) && lowest > Number.MIN_SAFE_INTEGER) {
      report("out_of_range", path, (root) => set(root, path, Math.floor(lowest) - 1));
    }
    return;
  }
  const objectBranches = matching.filter((b) => b.type === "object");
  if (objectBranches.length > 0 && value !== null && typeof value === "object" && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    // Of several object branches (a postal address or {text}), the one the value is an instance of.
    const objectBranch = objectBranches.find((b) => fitsShape(b, record)) ?? (objectBranches[0] as JsonSchema);
    const properties = objectBranch.properties ?? {};
    for (const key of objectBranch.required ?? []) {
      report("missing_required_field", [...path, key], (root) => {
        const target = path.reduce<unknown>((node, k) => (node as Record<PropertyKey, unknown>)[k], root);
        delete (target as Record<string, unknown>)[key];
        return root;
      });
    }
    const unknownKey = unknownKeyFor(objectBranch);
    if (unknownKey !== undefined) {
      report("unknown_field", [...path, unknownKey], (root) => set(root, [...path, unknownKey], 1));
    }
    for (const [key, child] of Object.entries(record)) {
      const childSchema =
        properties[key] ??
        (typeof objectBranch.additionalProperties === "object" ? objectBranch.additionalProperties : undefined);
      if (childSchema) visit(childSchema, child, [...path, key], report);
    }
    return;
  }
  const arrayBranch = matching.find((b) => b.type === "array");
  if (arrayBranch && Array.isArray(value)) {
    value.forEach((item, index) => {
      if (arrayBranch.items !== undefined) visit(arrayBranch.items, item, [...path, index], report);
    });
  }
}
