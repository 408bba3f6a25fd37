/**
 * CloudEvents Kafka protocol binding, binary content mode: the record value is the event's
 * `data` (JSON), every other attribute is a `ce_<name>` header, `datacontenttype` is the
 * `content-type` header, and the record key is `partitionkey` (so one entity's events share a
 * partition and stay ordered).
 */

import { type CloudEventRecord, eventKey } from "#shared/envelope/cloud-event.ts";
import type { OutgoingMessage } from "#shared/envelope/outgoing-message.ts";

function headerValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function toKafkaBinaryMessage(event: CloudEventRecord): OutgoingMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (name === "data" || value === undefined) continue;
    if (name === "datacontenttype") headers["content-type"] = headerValue(value);
    else headers[`ce_${name}`] = headerValue(value);
  }
  const message: OutgoingMessage = {
    id: eventKey(event),
    value: JSON.stringify(event.data ?? null),
    headers,
  };
  return event.partitionkey === undefined ? message : { ...message, key: event.partitionkey };
}
