/**
 * Plain validation functions compiled once from zod schemas, for the per-event hot path.
 *
 * zod 4 parses objects fastest with parsers it generates with `new Function`; Cloudflare Workers
 * forbid that, so there every object, string and check of an event's `data` goes through zod's
 * generic interpreter, which was the largest single item of a batch's CPU. `compileFastParse`
 * walks a schema once and builds closures that do the same checks directly.
 *
 * The contract: for every input, the compiled function returns exactly what `schema.safeParse`
 * returns as `data` when zod accepts the input (the same values, a fresh copy of objects and
 * arrays with the keys in the same order, unknown keys of a stripping object left out), and
 * `REJECTED` exactly when zod refuses it. Callers ask zod again for a refused input, so every
 * error message still comes from zod. Only the schema kinds and checks listed below are
 * compiled; for anything else (transforms, defaults, refinements, pipes, custom formats, …)
 * `compileFastParse` returns `undefined` and the caller keeps using zod. `fast-parse.test.ts`
 * checks the contract against zod for every type of every catalogue.
 */
import type { z } from "zod";

/** What a compiled function returns where zod would refuse the input. */
export const REJECTED: unique symbol = Symbol("rejected");

export type FastParse = (value: unknown) => unknown;

type Compiled = FastParse;

/** The parts of zod's internal definitions read here (zod 4 `schema._zod`). */
interface Definition {
  readonly type: string;
  readonly check?: string;
  readonly checks?: readonly { _zod: { def: Definition } }[];
  readonly format?: string;
  readonly pattern?: RegExp;
  readonly coerce?: boolean;
  readonly when?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly length?: number;
  readonly value?: unknown;
  readonly inclusive?: boolean;
  readonly innerType?: Schema;
  readonly element?: Schema;
  readonly options?: readonly Schema[];
  readonly discriminator?: string;
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly catchall?: Schema;
  readonly keyType?: Schema;
  readonly valueType?: Schema;
  readonly partial?: boolean;
  readonly mode?: string;
}

interface Schema {
  readonly _zod: {
    readonly def: Definition;
    readonly values?: ReadonlySet<unknown>;
    readonly optin?: string;
    readonly optout?: string;
    readonly traits?: ReadonlySet<string>;
  };
}

/** String formats whose whole check is their pattern (zod's `$ZodCheckStringFormat`), nothing else. */
const PATTERN_FORMATS: ReadonlySet<string> = new Set([
  "regex",
  "email",
  "e164",
  "datetime",
  "date",
  "time",
  "uuid",
  "guid",
  "ipv4",
]);

/** Integer ranges of zod's number formats (`util.NUMBER_FORMAT_RANGES`). */
const NUMBER_FORMATS: Readonly<Record<string, readonly [number, number, boolean]>> = {
  safeint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true],
  int32: [-2147483648, 2147483647, true],
  uint32: [0, 4294967295, true],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38, false],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE, false],
};

type Test<T> = (value: T) => boolean;

/** Length checks, which zod runs on any value that has a length (`when`: every string and array). */
const LENGTH_CHECKS: ReadonlySet<string | undefined> = new Set(["min_length", "max_length", "length_equals"]);

/**
 * The schema's own check (a format schema is its own check) and its attached ones; undefined
 * when one runs only under a condition (`when`) other than the length checks' own.
 */
function checksOf(def: Definition): Definition[] | undefined {
  const checks: Definition[] = [];
  if (def.check !== undefined) checks.push(def);
  for (const check of def.checks ?? []) checks.push(check._zod.def);
  return checks.some((check) => check.when !== undefined && !LENGTH_CHECKS.has(check.check)) ? undefined : checks;
}

function lengthTest(check: Definition): Test<{ length: number }> | undefined {
  if (check.check === "min_length" && check.minimum !== undefined) {
    const minimum = check.minimum;
    return (value) => value.length >= minimum;
  }
  if (check.check === "max_length" && check.maximum !== undefined) {
    const maximum = check.maximum;
    return (value) => value.length <= maximum;
  }
  if (check.check === "length_equals" && check.length !== undefined) {
    const length = check.length;
    return (value) => value.length === length;
  }
  return undefined;
}

function stringTest(check: Definition): Test<string> | undefined {
  const length = lengthTest(check);
  if (length !== undefined) return length;
  if (check.check === "string_format" && check.format !== undefined && PATTERN_FORMATS.has(check.format)) {
    const pattern = check.pattern;
    if (!(pattern instanceof RegExp)) return undefined;
    return (value) => {
      pattern.lastIndex = 0;
      return pattern.test(value);
    };
  }
  return undefined;
}

function numberTest(check: Definition): Test<number> | undefined {
  if ((check.check === "greater_than" || check.check === "less_than") && typeof check.value === "number") {
    const bound = check.value;
    if (check.check === "greater_than") return check.inclusive ? (v) => v >= bound : (v) => v > bound;
    return check.inclusive ? (v) => v <= bound : (v) => v < bound;
  }
  if (check.check === "number_format") {
    const range = NUMBER_FORMATS[check.format ?? "float64"];
    if (range === undefined) return undefined;
    const [minimum, maximum, integer] = range;
    return integer
      ? (v) => Number.isSafeInteger(v) && v >= minimum && v <= maximum
      : (v) => v >= minimum && v <= maximum;
  }
  return undefined;
}

/** All `tests` of a schema compiled, or undefined when one of its checks is not supported. */
function allTests<T>(def: Definition, compile: (check: Definition) => Test<T> | undefined): Test<T>[] | undefined {
  const checks = checksOf(def);
  if (checks === undefined) return undefined;
  const tests: Test<T>[] = [];
  for (const check of checks) {
    const test = compile(check);
    if (test === undefined) return undefined;
    tests.push(test);
  }
  return tests;
}

function passes<T>(tests: readonly Test<T>[], value: T): boolean {
  for (const test of tests) if (!test(value)) return false;
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function compileObject(def: Definition): Compiled | undefined {
  if (def.shape === undefined || (def.checks?.length ?? 0) > 0) return undefined;
  const catchall = def.catchall?._zod.def.type;
  // Only stripping (no catchall) and strict (`never`) objects.
  if (catchall !== undefined && catchall !== "never") return undefined;
  const strict = catchall === "never";
  const fields: { key: string; parse: Compiled; optional: boolean }[] = [];
  for (const [key, schema] of Object.entries(def.shape)) {
    const parse = compileNode(schema);
    if (parse === undefined) return undefined;
    // zod skips an absent key only when its schema is optional in and out; absent keys of other
    // half-optional kinds have their own rules, which stay with zod.
    const { optin, optout } = schema._zod;
    const optional = optin === "optional" && optout === "optional";
    if (!optional && (optin !== undefined || optout !== undefined)) return undefined;
    fields.push({ key, parse, optional });
  }
  const known = new Set(fields.map(({ key }) => key));
  return (value) => {
    if (!isPlainObject(value)) return REJECTED;
    const out: Record<string, unknown> = {};
    for (const { key, parse, optional } of fields) {
      // zod asks `key in input` (the prototype chain included) to tell an absent key.
      const present = key in value;
      if (!present && optional) continue;
      const parsed = parse(value[key]);
      if (parsed === REJECTED) return REJECTED;
      if (!present) {
        // An absent required key is refused unless its schema was optional-in.
        return REJECTED;
      }
      out[key] = parsed;
    }
    if (strict) {
      for (const key in value) if (Object.hasOwn(value, key) && !known.has(key)) return REJECTED;
    }
    return out;
  };
}

/** zod's `util.isPlainObject`, which records (unlike objects) require of their input. */
function isZodPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const maker = (value as { constructor?: unknown }).constructor;
  if (maker === undefined || typeof maker !== "function") return true;
  const prototype: unknown = maker.prototype;
  return isPlainObject(prototype) && Object.hasOwn(prototype, "isPrototypeOf");
}

/**
 * `z.partialRecord(z.enum([...]), value)`: every own enumerable key must be one of the enum's
 * strings (an own `__proto__` key is skipped, as zod skips it), each value parsed, the keys kept
 * in the input's order. Other records (non-enumerable key schemas such as `z.string()`, keys
 * with checks or non-string values, exhaustive or loose records) stay with zod.
 */
function compileRecord(schema: Schema): Compiled | undefined {
  const def = schema._zod.def;
  if (def.partial !== true || def.mode !== undefined || (def.checks?.length ?? 0) > 0) return undefined;
  const keyType = def.keyType;
  const keys = keyType?._zod.values;
  if (keyType === undefined || keys === undefined || def.valueType === undefined) return undefined;
  const keyDef = keyType._zod.def;
  if ((keyDef.type !== "enum" && keyDef.type !== "literal") || (keyDef.checks?.length ?? 0) > 0) return undefined;
  for (const key of keys) if (typeof key !== "string") return undefined;
  const value = compileNode(def.valueType);
  if (value === undefined) return undefined;
  return (input) => {
    if (!isZodPlainObject(input)) return REJECTED;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(input)) {
      if (key === "__proto__") continue;
      if (!keys.has(key)) return REJECTED;
      const parsed = value(input[key]);
      if (parsed === REJECTED) return REJECTED;
      out[key] = parsed;
    }
    // zod also reads own enumerable symbol keys, none of which an enum of strings accepts.
    for (const symbol of Object.getOwnPropertySymbols(input))
      if (Object.prototype.propertyIsEnumerable.call(input, symbol)) return REJECTED;
    return out;
  };
}

function compileNode(schema: Schema): Compiled | undefined {
  const def = schema._zod.def;
  switch (def.type) {
    case "string": {
      if (def.coerce) return undefined;
      const tests = allTests(def, stringTest);
      if (tests === undefined) return undefined;
      return (value) => (typeof value === "string" && passes(tests, value) ? value : REJECTED);
    }
    case "number": {
      if (def.coerce) return undefined;
      const tests = allTests(def, numberTest);
      if (tests === undefined) return undefined;
      return (value) =>
        typeof value === "number" && Number.isFinite(value) && passes(tests, value) ? value : REJECTED;
    }
    case "boolean":
      if (def.coerce || (def.checks?.length ?? 0) > 0) return undefined;
      return (value) => (typeof value === "boolean" ? value : REJECTED);
    case "literal":
    case "enum": {
      const values = schema._zod.values;
      if (values === undefined || (def.checks?.length ?? 0) > 0) return undefined;
      return (value) => (values.has(value) ? value : REJECTED);
    }
    case "unknown":
    case "any":
      return (def.checks?.length ?? 0) > 0 ? undefined : (value) => value;
    case "optional": {
      // `exactOptional` refuses an explicit undefined; a defaulted inner substitutes a value.
      if (schema._zod.traits?.has("$ZodExactOptional")) return undefined;
      if (def.innerType === undefined || def.innerType._zod.optin === "defaulted") return undefined;
      const inner = compileNode(def.innerType);
      if (inner === undefined) return undefined;
      return (value) => (value === undefined ? undefined : inner(value));
    }
    case "nullable": {
      if (def.innerType === undefined) return undefined;
      const inner = compileNode(def.innerType);
      if (inner === undefined) return undefined;
      return (value) => (value === null ? null : inner(value));
    }
    case "array": {
      if (def.element === undefined) return undefined;
      const element = compileNode(def.element);
      const tests = allTests(def, lengthTest);
      if (element === undefined || tests === undefined) return undefined;
      return (value) => {
        if (!Array.isArray(value) || !passes(tests, value)) return REJECTED;
        const out = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const parsed = element(value[i]);
          if (parsed === REJECTED) return REJECTED;
          out[i] = parsed;
        }
        return out;
      };
    }
    case "union": {
      // A plain union answers with the first option that accepts; exclusive and discriminated
      // unions choose differently and stay with zod.
      if (
        def.options === undefined ||
        def.discriminator !== undefined ||
        (def as { inclusive?: boolean }).inclusive === false
      )
        return undefined;
      if ((def.checks?.length ?? 0) > 0) return undefined;
      const options: Compiled[] = [];
      for (const option of def.options) {
        const compiled = compileNode(option);
        if (compiled === undefined) return undefined;
        options.push(compiled);
      }
      return (value) => {
        for (const option of options) {
          const parsed = option(value);
          if (parsed !== REJECTED) return parsed;
        }
        return REJECTED;
      };
    }
    case "object":
      return compileObject(def);
    case "record":
      return compileRecord(schema);
    default:
      return undefined;
  }
}

/**
 * A plain function equivalent to `schema.safeParse` (see the contract above), or `undefined`
 * when the schema uses a kind or check this compiler does not handle.
 */
export function compileFastParse(schema: z.ZodType): FastParse | undefined {
  return compileNode(schema as unknown as Schema);
}
