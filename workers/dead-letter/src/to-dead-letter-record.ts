/**
 * Reads a message from a `<queue>-dlq` into a `dead_letters` row. Two shapes arrive: edgebus's
 * own dead letters (`DeadLetterMessage`, with the error) and bare bodies Cloudflare moved after
 * `max_retries` when a consumer could not dead-letter itself (no error known: reason `platform`).
 * Every body is storable, so nothing here is poison.
 */
import type { QueueMessage } from "#shared/consumers/consumer-message.ts";
import { deadLetterMessageSchema } from "#shared/consumers/dead-letter-message.ts";
import type { DeadLetterRecord } from "./dead-letters-store.ts";

const DLQ_SUFFIX = "-dlq";

function eventIdentity(body: unknown, messageId: string): { source: string; id: string; type: string | null } {
  const event = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const source = typeof event.source === "string" && event.source !== "" ? event.source : "";
  const id = typeof event.id === "string" && event.id !== "" ? event.id : "";
  const type = typeof event.type === "string" ? event.type : null;
  // Not a CloudEvent: key it by queue message id so each distinct message gets its row.
  if (source === "" || id === "") return { source: "", id: `message:${messageId}`, type };
  return { source, id, type };
}

export function toDeadLetterRecord(dlqName: string, message: QueueMessage, now: Date): DeadLetterRecord {
  const letter = deadLetterMessageSchema.safeParse(message.body);
  if (letter.success) {
    const { data } = letter;
    const identity = eventIdentity(data.body, data.message_id);
    return {
      queue: data.queue,
      consumer: data.consumer,
      eventSource: identity.source,
      eventId: identity.id,
      eventType: identity.type,
      messageId: data.message_id,
      event: data.body,
      errorCode: data.error.code,
      errorType: data.error.type,
      errorMessage: data.error.message,
      errorDetails: data.error.details,
      failureReason: data.error.reason,
      attempts: data.attempts,
      failedAt: data.failed_at,
    };
  }
  const identity = eventIdentity(message.body, message.id);
  return {
    queue: dlqName.endsWith(DLQ_SUFFIX) ? dlqName.slice(0, -DLQ_SUFFIX.length) : dlqName,
    consumer: "unknown",
    eventSource: identity.source,
    eventId: identity.id,
    eventType: identity.type,
    messageId: message.id,
    event: message.body,
    errorCode: null,
    errorType: null,
    errorMessage: "moved to the dead-letter queue by Cloudflare Queues after max_retries; no error was recorded",
    errorDetails: undefined,
    failureReason: "platform",
    attempts: 0,
    // The platform keeps the original enqueue time on the moved message; now is when we learn of it.
    failedAt: now.toISOString(),
  };
}
