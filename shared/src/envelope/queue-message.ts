import type { OutgoingMessage } from "../../../workers/producer/src/brokers/publisher.ts";
import { type CloudEventRecord, eventKey } from "./cloud-event.ts";

/** A Cloudflare Queue message carries the whole normalised event (structured JSON). */
export function toQueueMessage(event: CloudEventRecord): OutgoingMessage {
  const message: OutgoingMessage = { id: eventKey(event), value: JSON.stringify(event) };
  return event.partitionkey === undefined ? message : { ...message, key: event.partitionkey };
}
