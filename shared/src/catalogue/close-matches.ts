/**
 * "Did you mean" suggestions for an unknown event type. Typos in a segment (`citizen.create`,
 * `gov.permit.application.submitted`) are a small edit distance away; a type given without its
 * namespace or domain (`citizen.created`) is a suffix of the real one.
 */

/** Inputs longer than this cannot be a near-miss of any real type and would only cost CPU. */
const MAX_COMPARED_LENGTH = 256;

/**
 * Levenshtein distance (insert, delete, substitute each cost 1), two-row dynamic programme.
 * With `limit`, stops as soon as the distance must exceed it and returns `limit + 1`: unknown
 * types arrive on the request path, so far-off candidates should cost little.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const capped = (distance: number) => (distance > limit ? limit + 1 : distance);
  if (a.length === 0) return capped(b.length);
  if (b.length === 0) return capped(a.length);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
      current[j] = value;
      if (value < rowMinimum) rowMinimum = value;
    }
    // Row minima never decrease, so once every cell is past the limit the result is too.
    if (rowMinimum > limit) return limit + 1;
    [previous, current] = [current, previous];
  }
  return capped(previous[b.length] ?? 0);
}

/**
 * Distance of `input` from `candidate` for suggestion purposes, or `undefined` when they are too
 * far apart to be worth suggesting. A dotted suffix match counts as almost exact.
 */
export function suggestionDistance(input: string, candidate: string): number | undefined {
  const normalised = input.trim().toLowerCase();
  if (normalised.length === 0 || normalised.length > MAX_COMPARED_LENGTH) return undefined;
  if (normalised.includes(".") && candidate.endsWith(`.${normalised}`)) return 0.5;
  // Allow roughly one edit per segment: enough for typos and a wrong action, not for unrelated types.
  const allowed = Math.max(2, Math.floor(Math.max(normalised.length, candidate.length) * 0.3));
  const distance = editDistance(normalised, candidate, allowed);
  return distance <= allowed ? distance : undefined;
}

/** Up to `limit` candidates nearest to `input`, nearest first, ties in alphabetical order. */
export function closeMatches(input: string, candidates: Iterable<string>, limit: number): string[] {
  if (limit <= 0) return [];
  const scored: { candidate: string; distance: number }[] = [];
  for (const candidate of candidates) {
    const distance = suggestionDistance(input, candidate);
    if (distance !== undefined && candidate !== input) scored.push({ candidate, distance });
  }
  scored.sort((a, b) => a.distance - b.distance || (a.candidate < b.candidate ? -1 : 1));
  return scored.slice(0, limit).map((s) => s.candidate);
}
