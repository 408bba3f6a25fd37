import { z } from "zod";
import { ERROR_CODES } from "../errors.ts";

/**
 * The body edgebus sends to `<queue>-dlq`: the original message body untouched plus why it
 * failed. Cloudflare's own move to the DLQ (after `max_retries`) forwards the bare body and loses
 * the error, so consumers dead-letter themselves with this envelope (see `settle`). The
 * dead-letter consumer accepts both shapes.
 */
export const DEAD_LETTER_KIND = "edgebus.dead-letter";

const errorCodes = Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]];

export const deadLetterMessageSchema = z.object({
  kind: z.literal(DEAD_LETTER_KIND),
  version: z.literal(1),
  /** Queue the message failed on (e.g. `permits-citizen-sync`). */
  queue: z.string().min(1),
  /** Consumer that gave up (e.g. `citizen-sync:permits`). */
  consumer: z.string().min(1),
  /** Queue message id of the failed delivery. */
  message_id: z.string(),
  /** Deliveries made before giving up. */
  attempts: z.number().int().nonnegative(),
  /** When the original message was first enqueued (the first failure cannot be earlier). */
  enqueued_at: z.iso.datetime({ offset: true }),
  failed_at: z.iso.datetime({ offset: true }),
  error: z.object({
    code: z.enum(errorCodes),
    message: z.string(),
    /** `permanent` (retrying cannot help) or `exhausted` (retries ran out). */
    reason: z.enum(["permanent", "exhausted"]),
    /** Class of the underlying cause (e.g. `PostgresError`, `ZodError`), for triage. */
    type: z.string(),
    details: z.unknown().optional(),
  }),
  /** The original message body (normally a CloudEvent record), unchanged. */
  body: z.unknown(),
});

export type DeadLetterMessage = z.output<typeof deadLetterMessageSchema>;

/** Where dead letters go. `send` resolves only once the DLQ durably accepted the message. */
export interface DeadLetterSink {
  send(message: DeadLetterMessage): Promise<void>;
}

/** A Cloudflare Queue producer binding for `<queue>-dlq` as a `DeadLetterSink`. */
export function queueDeadLetterSink(binding: {
  send(body: unknown, options?: { contentType?: "json" }): Promise<unknown>;
}): DeadLetterSink {
  return {
    async send(message) {
      await binding.send(message, { contentType: "json" });
    },
  };
}
