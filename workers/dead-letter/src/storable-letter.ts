/**
 * Making any dead letter storable. Postgres refuses some values a queue message can carry: a NUL
 * character (jsonb and text both refuse U+0000), an unpaired UTF-16 surrogate (jsonb refuses the
 * `\ud800` escape JSON.stringify writes for it), numbers beyond a column's range, values JSON
 * cannot represent (BigInt). One such letter must not keep the rest of its batch out of
 * `edgebus.dead_letters`, and must itself be kept: it is stored encoded instead —
 * `event_encoding = 'json_text'`, the exact body as JSON text in `event_text`, a readable copy with
 * the refused characters replaced by U+FFFD in `event`, and a `storage_note` saying so.
 */
import type { DeadLetterRecord } from "./dead-letters-store.ts";

/** Replaces what Postgres cannot hold in text or jsonb. */
const REPLACEMENT = "\uFFFD";
const NUL_CHARACTER = "\u0000";
// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Postgres `integer` columns (attempts). */
const MAX_INTEGER = 2_147_483_647;
/** Paths named in a note; the note stays short. */
const MAX_NOTED_PATHS = 5;

export interface Problem {
  readonly path: string;
  readonly kind: "NUL character" | "unpaired surrogate" | "value JSON cannot represent";
}

function stringProblems(value: string, path: string): Problem[] {
  const problems: Problem[] = [];
  if (value.includes(NUL_CHARACTER)) problems.push({ path, kind: "NUL character" });
  LONE_SURROGATE.lastIndex = 0;
  if (LONE_SURROGATE.test(value)) problems.push({ path, kind: "unpaired surrogate" });
  return problems;
}

function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Where `value` holds something Postgres refuses (strings and object keys, at any depth). */
export function unstorableParts(value: unknown, path = "$", seen = new Set<object>()): Problem[] {
  if (typeof value === "string") return stringProblems(value, path);
  if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol") {
    return [{ path, kind: "value JSON cannot represent" }];
  }
  if (typeof value !== "object" || value === null) return [];
  if (seen.has(value)) return [{ path, kind: "value JSON cannot represent" }];
  seen.add(value);
  const problems: Problem[] = [];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) problems.push(...unstorableParts(item, `${path}[${index}]`, seen));
  } else {
    for (const [key, item] of Object.entries(value)) {
      const itemPath = keyPath(path, key);
      problems.push(...stringProblems(key, `${itemPath} (key)`));
      problems.push(...unstorableParts(item, itemPath, seen));
    }
  }
  seen.delete(value);
  return problems;
}

/** Problems of every value of a record that goes to Postgres. */
export function recordProblems(record: DeadLetterRecord): Problem[] {
  return [
    ...unstorableParts(record.event, "$.body"),
    ...unstorableParts(record.errorDetails, "$.error.details"),
    ...unstorableParts(
      {
        queue: record.queue,
        consumer: record.consumer,
        source: record.eventSource,
        id: record.eventId,
        type: record.eventType,
        message_id: record.messageId,
        error_code: record.errorCode,
        error_type: record.errorType,
        error_message: record.errorMessage,
      },
      "$",
    ),
  ];
}

const cleanText = (value: string): string =>
  value.replaceAll(NUL_CHARACTER, REPLACEMENT).replace(LONE_SURROGATE, REPLACEMENT);

/** A JSON value with every string (and key) made storable; what JSON cannot hold becomes text. */
function cleanJson(value: unknown, seen = new Set<object>()): unknown {
  if (typeof value === "string") return cleanText(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  let cleaned: unknown;
  if (Array.isArray(value)) cleaned = value.map((item) => cleanJson(item, seen));
  else if (value instanceof Date) cleaned = Number.isNaN(value.getTime()) ? null : value.toISOString();
  else {
    cleaned = Object.fromEntries(Object.entries(value).map(([key, item]) => [cleanText(key), cleanJson(item, seen)]));
  }
  seen.delete(value);
  return cleaned;
}

/**
 * The exact body as JSON text. JSON.stringify writes a NUL as `\u0000` and a lone surrogate as
 * `\udXXX`, so the text itself holds neither and fits a text column; JSON.parse restores both.
 * A body JSON cannot represent (BigInt, a cycle) is written from its cleaned copy.
 */
export function exactJsonText(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text;
  } catch {
    // fall through: BigInt or a cycle
  }
  return JSON.stringify(cleanJson(value)) ?? "null";
}

function describe(problems: readonly Problem[]): string {
  const kinds = [...new Set(problems.map((problem) => problem.kind))];
  const paths = [...new Set(problems.map((problem) => problem.path))];
  const shown = paths.slice(0, MAX_NOTED_PATHS).join(", ");
  const more = paths.length > MAX_NOTED_PATHS ? ` and ${paths.length - MAX_NOTED_PATHS} more` : "";
  return `${kinds.join(", ")} at ${shown}${more}`;
}

/** An ISO time Postgres' timestamptz takes (years 1–9999), else now. */
function storableTime(iso: string): string {
  const time = new Date(iso);
  const year = time.getUTCFullYear();
  return Number.isNaN(time.getTime()) || year < 1 || year > 9999 ? new Date().toISOString() : iso;
}

/**
 * `record` in the form Postgres always accepts: the body encoded as exact JSON text, `event` and
 * every text value cleaned (NUL and lone surrogates → U+FFFD), `attempts` within `integer`, and a
 * note saying what was done and why (`problems` found up front, or the Postgres error that refused
 * the letter as it was).
 */
export function encodedRecord(
  record: DeadLetterRecord,
  why: { readonly problems: readonly Problem[] } | { readonly refusedBy: string },
): DeadLetterRecord {
  const reason =
    "problems" in why
      ? `the letter holds what Postgres cannot store (${describe(why.problems)})`
      : `Postgres refused the letter as it was (${why.refusedBy})`;
  const attempts = Math.min(MAX_INTEGER, Math.max(0, Math.trunc(record.attempts) || 0));
  const changes = [
    "the exact body is in event_text (JSON text; JSON.parse restores it)",
    "event holds a copy with NUL characters and unpaired surrogates replaced by U+FFFD",
    ...(attempts === record.attempts ? [] : [`attempts ${record.attempts} stored as ${attempts}`]),
  ];
  const failedAt = storableTime(record.failedAt);
  if (failedAt !== record.failedAt)
    changes.push(`failed_at ${JSON.stringify(cleanText(record.failedAt))} stored as now`);
  const text = (value: string | null): string | null => (value === null ? null : cleanText(value));
  return {
    ...record,
    queue: cleanText(record.queue),
    consumer: cleanText(record.consumer),
    eventSource: cleanText(record.eventSource),
    eventId: cleanText(record.eventId),
    eventType: text(record.eventType),
    messageId: text(record.messageId),
    errorCode: text(record.errorCode),
    errorType: text(record.errorType),
    errorMessage: text(record.errorMessage),
    errorDetails: record.errorDetails === undefined ? undefined : cleanJson(record.errorDetails),
    event: cleanJson(record.event),
    attempts,
    failedAt,
    eventText: exactJsonText(record.event),
    storageNote: `Stored encoded: ${reason}; ${changes.join("; ")}.`,
  };
}
