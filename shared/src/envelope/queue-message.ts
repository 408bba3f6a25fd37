/**
 * The queue message codec: how an event is written to a Cloudflare Queue (by the producer and
 * the replay runner) and read back (by every consumer). A queue message body is the whole
 * normalised event's JSON text, sent with content type `text` (`QUEUE_BODY_CONTENT_TYPE`);
 * consumers parse it once when the batch arrives (`readQueueBody`, through
 * `withReadableBodies` in shared/consumers).
 *
 * Why text and not `json`: with `json` the runtime serialises the body again for every queue it
 * is sent to (an event goes to up to five), although the producer already holds the event's JSON
 * (it measured it against the limits); with `text` that JSON is sent as it is. HTTP pull clients
 * also read a text body as plain UTF-8, where a `json` body comes base64-encoded.
 */
import { type CloudEventRecord, eventKey } from "./cloud-event.ts";
import type { OutgoingMessage } from "./outgoing-message.ts";

/** The content type of every event body edgebus sends to a queue: the event's JSON text. */
export const QUEUE_BODY_CONTENT_TYPE = "text" as const;

/**
 * A Cloudflare Queue message carries the whole normalised event (its JSON text). `json`: the
 * event's `JSON.stringify`, when the caller already has it.
 */
export function toQueueMessage(event: CloudEventRecord, json: string = JSON.stringify(event)): OutgoingMessage {
  const message: OutgoingMessage = { id: eventKey(event), value: json };
  return event.partitionkey === undefined ? message : { ...message, key: event.partitionkey };
}

/**
 * A delivered queue body as the value it carries. A text body (how `toQueueMessage`'s messages
 * are sent) is parsed; any other body is already a value and is returned as it is: messages sent
 * with content type `json` (before edgebus sent text, or by another sender, such as the
 * dead-letter envelopes and the webhooks' wake messages). A text body that is not JSON is
 * returned as the text: the consumer then refuses it as it refuses any body that is not what it
 * reads, and the text is dead-lettered as it arrived.
 */
export function readQueueBody(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
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
