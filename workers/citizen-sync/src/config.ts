import { z } from "zod";
import { CITIZEN_TARGETS } from "./citizen-refs-store.ts";

/** Bindings and vars of citizen-sync, validated once per invocation (see wrangler.permits.toml / wrangler.revenue.toml). */
export const citizenSyncEnvSchema = z.object({
  CITIZEN_TARGET: z.enum(CITIZEN_TARGETS),
  /** = the consumer's `max_retries` in the wrangler config. */
  MAX_RETRIES: z.coerce.number().int().min(0).max(100),
  HYPERDRIVE: z.custom<{ connectionString: string }>(
    (value) => typeof (value as { connectionString?: unknown } | null)?.connectionString === "string",
    "HYPERDRIVE must be a Hyperdrive binding",
  ),
  DEAD_LETTER_QUEUE: z.custom<Queue>(
    (value) => typeof (value as { send?: unknown } | null)?.send === "function",
    "DEAD_LETTER_QUEUE must be a queue producer binding for <queue>-dlq",
  ),
});

export type CitizenSyncEnv = z.output<typeof citizenSyncEnvSchema>;
