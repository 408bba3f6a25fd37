import { z } from "zod";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";

/**
 * What the notifier needs of a queue message body: a normalised CloudEvent (the producer wrote
 * it; `data` was validated against the catalogue there). Anything else is poison.
 */
const notificationEventSchema = z.looseObject({
  specversion: z.literal("1.0"),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.string().min(1),
  data: z.unknown().optional(),
});

/** A reason to dead-letter the body, or undefined when it is a CloudEvent record. */
export function rejectNonEvent(body: unknown): string | undefined {
  const parsed = notificationEventSchema.safeParse(body);
  if (parsed.success) return undefined;
  return `not a CloudEvent record: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"} ${issue.message}`).join("; ")}`;
}

export function asEvent(body: unknown): CloudEventRecord {
  return body as CloudEventRecord;
}
