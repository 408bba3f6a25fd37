import { EdgebusError } from "#shared/errors.ts";
import type { PartitionBounds } from "../kafka/partition-tail.ts";

/**
 * Stream event ids and `Last-Event-ID`: comma-separated `partition:offset` pairs, one per partition
 * the stream follows. The first pair is the event's own partition and offset; the others are the
 * last offset delivered (or skipped by the filter) in each other partition, `start - 1` before
 * the first. So the id of the last event a client saw resumes every partition exactly after what
 * it has: for a one-partition topic (or `?partition=`) it is just `partition:offset`.
 *
 * @example formatEventId(2, new Map([[0, 42], [1, 7], [2, 18]])) // "2:17,0:41,1:6"
 */
export function formatEventId(partition: number, cursors: ReadonlyMap<number, number>): string {
  const parts = [`${partition}:${(cursors.get(partition) ?? 0) - 1}`];
  for (const [p, next] of [...cursors].sort(([a], [b]) => a - b)) if (p !== partition) parts.push(`${p}:${next - 1}`);
  return parts.join(",");
}

/** The id of the stream's position without an event (SSE heartbeats after filtered-out records). */
export function formatPositionId(cursors: ReadonlyMap<number, number>): string {
  return [...cursors]
    .sort(([a], [b]) => a - b)
    .map(([p, next]) => `${p}:${next - 1}`)
    .join(",");
}

const PAIR = /^(\d{1,6}):(-1|\d{1,19})$/;

/** `partition → last offset seen`; `bad_request` when the text is not a list of `partition:offset` pairs. */
export function parseEventId(text: string): Map<number, number> {
  const seen = new Map<number, number>();
  if (text.length > 64 * 1024) throw new EdgebusError("bad_request", "Last-Event-ID is too long");
  for (const pair of text.split(",")) {
    const match = PAIR.exec(pair.trim());
    if (!match) {
      throw new EdgebusError("bad_request", `Last-Event-ID must be partition:offset pairs separated by commas`, {
        details: { last_event_id: text.slice(0, 200) },
      });
    }
    const partition = Number(match[1]);
    if (seen.has(partition)) throw new EdgebusError("bad_request", `Last-Event-ID names partition ${partition} twice`);
    seen.set(partition, Number(match[2]));
  }
  return seen;
}

/**
 * Where a stream starts in each partition it follows: after the offset `Last-Event-ID` gives for
 * it, else at the log end (new events only). An offset removed by retention starts at the log
 * start; an offset past the log end, or a partition the topic does not have, is `bad_request`.
 */
export function startCursors(
  bounds: readonly PartitionBounds[],
  follow: readonly number[],
  resume: ReadonlyMap<number, number> | undefined,
): Map<number, number> {
  const cursors = new Map<number, number>();
  for (const partition of resume?.keys() ?? []) {
    if (!bounds[partition])
      throw new EdgebusError(
        "bad_request",
        `Last-Event-ID names partition ${partition}, which the topic does not have`,
      );
  }
  for (const partition of follow) {
    const b = bounds[partition] as PartitionBounds;
    const last = resume?.get(partition);
    if (last === undefined) {
      cursors.set(partition, b.end);
      continue;
    }
    if (last + 1 > b.end) {
      throw new EdgebusError(
        "bad_request",
        `Last-Event-ID offset ${last} of partition ${partition} is past the log end (${b.end})`,
      );
    }
    cursors.set(partition, Math.max(last + 1, b.start));
  }
  return cursors;
}
