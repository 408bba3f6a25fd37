/**
 * Nesting limit for request bodies. JSON.parse accepts any depth, but a deeply nested value
 * cannot be carried on: structured clone (Queues) and JSON.stringify recurse and overflow the
 * stack, which would surface as a 5xx after validation had passed. Bodies are refused before
 * parsing instead. 64 levels leave ample room for real events (batch → event → data → nested
 * objects such as `changes.<field>.old`) and none of the catalogue's schemas come close.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * True when arrays/objects in `text` nest deeper than `limit` (brackets inside strings do not
 * count). Linear in the text, no allocation, stops at the first level past the limit; meant to
 * run before JSON.parse, so it tolerates text that is not valid JSON (it only counts).
 *
 * Strings, most of an event's text, are skipped with `indexOf` to their closing quote (one not
 * preceded by an odd run of backslashes) rather than walked character by character; an
 * unterminated string runs to the end of the text, where nothing more is counted.
 */
export function jsonNestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = closingQuote(text, i);
      if (i < 0) return false;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}

/** Index of the quote closing the string opened at `open`, or -1 when the text ends first. */
function closingQuote(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  while (end > 0) {
    // Escaped when an odd run of backslashes precedes it; the run stops at the opening quote.
    let backslashes = 0;
    for (let j = end - 1; text.charCodeAt(j) === BACKSLASH; j -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return -1;
}
