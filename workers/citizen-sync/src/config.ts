import { z } from "zod";
import { deadLetterQueueBinding, hyperdriveBinding, maxRetriesVar } from "#shared/worker-bindings.ts";
import { CITIZEN_TARGETS } from "./citizen-refs-store.ts";

/** Bindings and vars of citizen-sync, validated once per invocation (see wrangler.permits.toml / wrangler.revenue.toml). */
export const citizenSyncEnvSchema = z.object({
  CITIZEN_TARGET: z.enum(CITIZEN_TARGETS),
  /** = the consumer's `max_retries` in the wrangler config. */
  MAX_RETRIES: maxRetriesVar,
  HYPERDRIVE: hyperdriveBinding,
  DEAD_LETTER_QUEUE: deadLetterQueueBinding("<queue>-dlq"),
});

export type CitizenSyncEnv = z.output<typeof citizenSyncEnvSchema>;
