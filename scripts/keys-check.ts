/**
 * Which configured API-key patterns changed meaning when scope patterns became segment globs
 * (`workers/producer/src/auth/scope-pattern.ts`): before, `*` matched any run of characters,
 * across `/` and `.`; now `*` stays within one segment and `**` spans segments. Run it on the
 * `EDGEBUS_API_KEYS` array before deploying (`npx tsx scripts/api-key.ts check keys.json`).
 *
 * For a source pattern with a `*` it tries values built from the pattern (each `*` run replaced
 * by a word, by two words across the separator, by nothing, or dropped with its segment) and
 * reports those the old and new rules answer differently; for a type pattern it compares the
 * catalogue types admitted before and now, exactly (any other type is refused anyway). It proposes
 * the closest pattern in the new rules. A pattern
 * the producer would refuse (`**` inside a segment, `..`, an empty segment) is reported as
 * invalid: the producer answers 500 naming it until it is fixed.
 */
import {
  SCOPE_SEPARATORS,
  type ScopeKind,
  scopePatternMatches,
  scopePatternProblem,
  sourceProblem,
} from "../workers/producer/src/auth/scope-pattern.ts";

/** The old rule: `*` matches any run of characters, everything else is literal (linear, no regex). */
export function legacyScopePatternMatches(pattern: string, value: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === value;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  let at = first.length;
  const end = value.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = value.indexOf(part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/** One value both rules were asked about and answered differently. */
export interface Example {
  readonly value: string;
  readonly before: boolean;
  readonly now: boolean;
}

export interface PatternFinding {
  readonly keyId: string;
  readonly field: "sources" | "types";
  readonly index: number;
  readonly pattern: string;
  /**
   * `invalid`: the producer refuses the pattern; `changed`: it admits other values than before;
   * `widened`: its only `*`s are whole-segment `**`s, which now also match no segment at all
   * (`/services/revenue/**` admits `/services/revenue` too): a note, not a failure.
   */
  readonly verdict: "invalid" | "changed" | "widened";
  readonly problem?: string;
  readonly examples?: readonly Example[];
  /** Catalogue types admitted before and refused now, and the other way round (types only). */
  readonly lostTypes?: readonly string[];
  readonly gainedTypes?: readonly string[];
  /** The closest pattern in the new rules, and whether it agrees with the old one on every value tried. */
  readonly closest?: { readonly pattern: string; readonly agrees: boolean };
}

export interface KeysCheck {
  readonly keys: number;
  readonly findings: readonly PatternFinding[];
}

interface StarRun {
  readonly start: number;
  readonly end: number;
  /** The run is a whole segment: separators (or the pattern's ends) on both sides. */
  readonly wholeSegment: boolean;
}

function starRuns(pattern: string, separator: string): StarRun[] {
  const runs: StarRun[] = [];
  for (const match of pattern.matchAll(/\*+/g)) {
    const start = match.index;
    const end = start + match[0].length;
    const before = start === 0 || pattern.slice(start - separator.length, start) === separator;
    const after = end === pattern.length || pattern.slice(end, end + separator.length) === separator;
    runs.push({ start, end, wholeSegment: before && after });
  }
  return runs;
}

/** `pattern` with each run replaced by `fill(index)` (undefined: the run and one adjacent separator dropped). */
function fillRuns(
  pattern: string,
  runs: readonly StarRun[],
  separator: string,
  fill: (index: number) => string | undefined,
) {
  let out = "";
  let at = 0;
  runs.forEach((run, index) => {
    const text = fill(index);
    if (text === undefined) {
      // Drop the segment: with the separator before it, else the one after it.
      const cutBefore =
        run.start >= separator.length && pattern.slice(run.start - separator.length, run.start) === separator;
      out += pattern.slice(at, cutBefore ? run.start - separator.length : run.start);
      at = cutBefore ? run.end : Math.min(pattern.length, run.end + separator.length);
    } else {
      out += pattern.slice(at, run.start) + text;
      at = run.end;
    }
  });
  return out + pattern.slice(at);
}

/** Values built from `pattern` where the old and new rules are most likely to disagree. */
function probes(pattern: string, kind: ScopeKind): string[] {
  const separator = SCOPE_SEPARATORS[kind];
  const runs = starRuns(pattern, separator);
  const values = new Set<string>([fillRuns(pattern, runs, separator, () => "x")]);
  runs.forEach((run, i) => {
    values.add(fillRuns(pattern, runs, separator, (j) => (j === i ? `x${separator}y` : "x")));
    values.add(fillRuns(pattern, runs, separator, (j) => (j === i ? "" : "x")));
    if (run.wholeSegment) values.add(fillRuns(pattern, runs, separator, (j) => (j === i ? undefined : "x")));
  });
  return [...values].filter((value) => value !== "" && (kind !== "source" || sourceProblem(value) === undefined));
}

/** The closest pattern in the new rules: whole-segment runs become `**`, a trailing in-segment `*` gets `/**` after it. */
function closestPattern(pattern: string, kind: ScopeKind): string {
  const separator = SCOPE_SEPARATORS[kind];
  const runs = starRuns(pattern, separator);
  return fillRuns(pattern, runs, separator, (index) => {
    const run = runs[index] as StarRun;
    if (run.wholeSegment) return "**";
    return run.end === pattern.length ? `*${separator}**` : "*";
  });
}

function checkPattern(
  keyId: string,
  field: "sources" | "types",
  index: number,
  pattern: string,
  catalogueTypes: readonly string[],
): PatternFinding | undefined {
  const kind: ScopeKind = field === "sources" ? "source" : "type";
  const base = { keyId, field, index, pattern };
  const problem = scopePatternProblem(pattern, kind);
  if (problem !== undefined) return { ...base, verdict: "invalid", problem };
  if (!pattern.includes("*")) return undefined;

  // A type outside the catalogue is refused anyway (422), so for types the catalogue is the exact answer.
  const tried = kind === "type" ? catalogueTypes : probes(pattern, kind);
  const examples = tried
    .map((value) => ({
      value,
      before: legacyScopePatternMatches(pattern, value),
      now: scopePatternMatches(pattern, value, kind),
    }))
    .filter((example) => example.before !== example.now);
  const lostTypes =
    kind === "type"
      ? catalogueTypes.filter((t) => legacyScopePatternMatches(pattern, t) && !scopePatternMatches(pattern, t, kind))
      : [];
  const gainedTypes =
    kind === "type"
      ? catalogueTypes.filter((t) => !legacyScopePatternMatches(pattern, t) && scopePatternMatches(pattern, t, kind))
      : [];
  if (examples.length === 0 && lostTypes.length === 0 && gainedTypes.length === 0) return undefined;

  const suggestion = closestPattern(pattern, kind);
  const agreesOn = (values: readonly string[]) =>
    values.every((value) => legacyScopePatternMatches(pattern, value) === scopePatternMatches(suggestion, value, kind));
  const agrees = scopePatternProblem(suggestion, kind) === undefined && agreesOn(tried);
  const onlyGlobstars = starRuns(pattern, SCOPE_SEPARATORS[kind]).every(
    (run) => run.wholeSegment && run.end - run.start === 2,
  );
  return {
    ...base,
    verdict: onlyGlobstars && lostTypes.length === 0 && examples.every((e) => e.now) ? "widened" : "changed",
    examples: kind === "type" ? [] : examples.slice(0, 3),
    ...(kind === "type" ? { lostTypes, gainedTypes } : {}),
    closest: { pattern: suggestion, agrees },
  };
}

/** Checks every pattern of an `EDGEBUS_API_KEYS` array (its other fields are not looked at). */
export function checkApiKeys(json: unknown, catalogueTypes: readonly string[]): KeysCheck {
  if (!Array.isArray(json)) throw new Error("EDGEBUS_API_KEYS must be a JSON array of key entries");
  const findings: PatternFinding[] = [];
  json.forEach((entry: unknown, position) => {
    if (typeof entry !== "object" || entry === null) throw new Error(`entry ${position} is not an object`);
    const { id, sources, types } = entry as { id?: unknown; sources?: unknown; types?: unknown };
    const keyId = typeof id === "string" ? id : `#${position}`;
    for (const [field, list] of [
      ["sources", sources],
      ["types", types],
    ] as const) {
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw new Error(`${keyId}: ${field} is not an array`);
      list.forEach((pattern: unknown, index) => {
        const finding =
          typeof pattern === "string"
            ? checkPattern(keyId, field, index, pattern, catalogueTypes)
            : {
                keyId,
                field,
                index,
                pattern: String(pattern),
                verdict: "invalid" as const,
                problem: "is not a string",
              };
        if (finding !== undefined) findings.push(finding);
      });
    }
  });
  return { keys: json.length, findings };
}

function listTypes(types: readonly string[]): string {
  const shown = types.slice(0, 4).join(", ");
  return types.length > 4 ? `${shown}, … (${types.length} types)` : shown;
}

/** The report, one block per key with findings, and a last line with the counts. */
export function renderKeysCheck(check: KeysCheck): string {
  const lines: string[] = [];
  let lastKey: string | undefined;
  for (const finding of check.findings) {
    if (finding.keyId !== lastKey) {
      lines.push(`key ${finding.keyId}`);
      lastKey = finding.keyId;
    }
    const where = `  ${finding.field}[${finding.index}] ${JSON.stringify(finding.pattern)}`;
    if (finding.verdict === "invalid") {
      lines.push(`${where} is invalid: ${finding.problem}`);
      continue;
    }
    lines.push(finding.verdict === "widened" ? `${where} now also admits (note):` : `${where} changed meaning:`);
    for (const example of finding.examples ?? []) {
      const verdict = example.before ? "admitted before, refused now" : "refused before, admitted now";
      lines.push(`      ${example.value}  ${verdict}`);
    }
    if (finding.lostTypes && finding.lostTypes.length > 0) {
      lines.push(`      catalogue types admitted before, refused now: ${listTypes(finding.lostTypes)}`);
    }
    if (finding.gainedTypes && finding.gainedTypes.length > 0) {
      lines.push(`      catalogue types refused before, admitted now: ${listTypes(finding.gainedTypes)}`);
    }
    if (finding.closest && finding.verdict === "changed") {
      const note = finding.closest.agrees
        ? "answers as before on every value tried"
        : "the nearest; check that it admits what you mean";
      lines.push(`      closest pattern now: ${JSON.stringify(finding.closest.pattern)} (${note})`);
    }
  }
  const flagged = new Set(failures(check).map((finding) => finding.keyId)).size;
  lines.push(
    flagged === 0
      ? `${check.keys} key(s) checked: no pattern is invalid or changed meaning`
      : `${flagged} of ${check.keys} key(s) have patterns that are invalid or changed meaning; fix them in EDGEBUS_API_KEYS before deploying`,
  );
  return lines.join("\n");
}

/** The findings that must be fixed before deploying (not the `widened` notes). */
export function failures(check: KeysCheck): readonly PatternFinding[] {
  return check.findings.filter((finding) => finding.verdict !== "widened");
}
