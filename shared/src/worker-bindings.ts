/**
 * zod checks for the platform bindings and vars every consumer Worker declares in its wrangler
 * config. Each Worker's env schema composes these, so a missing binding reads the same in every
 * Worker's logs and the checks are written once.
 */
import { z } from "zod";

/** A Hyperdrive binding (`[[hyperdrive]]`): Postgres through Cloudflare's pooler. */
export const hyperdriveBinding = z.custom<{ connectionString: string }>(
  (value) => typeof (value as { connectionString?: unknown } | null)?.connectionString === "string",
  "HYPERDRIVE must be a Hyperdrive binding (see [[hyperdrive]] in the Worker's wrangler config)",
);

/** The producer binding of a consumer's dead-letter queue (`[[queues.producers]]`). */
export function deadLetterQueueBinding(queue: string) {
  return z.custom<Queue>(
    (value) => typeof (value as { send?: unknown } | null)?.send === "function",
    `DEAD_LETTER_QUEUE must be a queue producer binding for ${queue}`,
  );
}

/**
 * `MAX_RETRIES`: must equal the consumer's `max_retries` in the same wrangler config, so the
 * Worker knows which delivery is the last and dead-letters it itself (with the reason) instead of
 * letting the platform drop it into the DLQ without one. Each Worker has a test that they match.
 */
export const maxRetriesVar = z.coerce.number().int().min(0).max(100);
