/**
 * The queue message codec: how an event is written to a Cloudflare Queue (by the producer and
 * the replay runner) and read back (by every consumer). A queue message body is the whole
 * normalised event as structured JSON; the platform hands consumers the parsed object.
 */
import { type CloudEventRecord, eventKey } from "./cloud-event.ts";
import type { OutgoingMessage } from "./outgoing-message.ts";

/**
 * A Cloudflare Queue message carries the whole normalised event (structured JSON). `json`: the
 * event's `JSON.stringify`, when the caller already has it.
 */
export function toQueueMessage(event: CloudEventRecord, json: string = JSON.stringify(event)): OutgoingMessage {
  const message: OutgoingMessage = { id: eventKey(event), value: json };
  return event.partitionkey === undefined ? message : { ...message, key: event.partitionkey };
}

/** A queue message body read back: the event, or why the body cannot be one (poison). */
export type QueuedEvent =
  | { readonly ok: true; readonly event: CloudEventRecord }
  | { readonly ok: false; readonly reason: string };

const REQUIRED_ATTRIBUTES = ["id", "source", "type", "time"] as const;

/**
 * Reads a queue message body written by `toQueueMessage`. Checks what every consumer relies on
 * (the duplicate key `source` + `id`, `type` for dispatch, `time` as a timestamp, an integer
 * `eventversion` when present) and nothing about `data`: each consumer validates the data it
 * uses. A failure is permanent: retrying cannot make the body an event, so it is dead-lettered.
 *
 * @example
 * const decoded = parseQueuedEvent(message.body);
 * if (!decoded.ok) return poison(decoded.reason);
 */
export function parseQueuedEvent(body: unknown): QueuedEvent {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { ok: false, reason: "message body is not a CloudEvent object" };
  const event = body as Partial<CloudEventRecord>;
  if (event.specversion !== "1.0") return { ok: false, reason: "specversion is not 1.0" };
  for (const attribute of REQUIRED_ATTRIBUTES) {
    const value = event[attribute];
    if (typeof value !== "string" || value === "") return { ok: false, reason: `${attribute} is missing` };
  }
  if (Number.isNaN(Date.parse(event.time as string))) return { ok: false, reason: "time is not a timestamp" };
  if (event.eventversion !== undefined && !Number.isSafeInteger(event.eventversion))
    return { ok: false, reason: "eventversion is not an integer" };
  return { ok: true, event: body as CloudEventRecord };
}
