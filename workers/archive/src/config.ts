import { z } from "zod";
import { deadLetterQueueBinding, hyperdriveBinding, maxRetriesVar } from "#shared/worker-bindings.ts";

/** Bindings and vars of the archive Worker (see wrangler.toml), validated at the boundary. */
export const archiveEnvSchema = z.object({
  MAX_RETRIES: maxRetriesVar,
  /** Rows archived longer ago than this are pruned by the scheduled handler. */
  ARCHIVE_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(400),
  ARCHIVE_PRUNE_CHUNK: z.coerce.number().int().min(100).max(50_000).default(5000),
  /**
   * The same daily job prunes `edgebus.processed_events` rows older than this; at least 15 days,
   * beyond the 14-day maximum retention of a queue message, so no redelivery can outlive it.
   */
  PROCESSED_EVENTS_RETENTION_DAYS: z.coerce.number().int().min(15).max(3650).default(30),
  /**
   * And folds `edgebus.consumer_metrics` minutes older than this into their totals row: the
   * metrics keep every count, the table keeps per-minute detail for this long.
   */
  CONSUMER_METRICS_RETENTION_DAYS: z.coerce.number().int().min(1).max(90).default(2),
  HYPERDRIVE: hyperdriveBinding,
  DEAD_LETTER_QUEUE: deadLetterQueueBinding("archive-dlq"),
});

export type ArchiveEnv = z.output<typeof archiveEnvSchema>;
