import { z } from "zod";
import { deadLetterQueueBinding, maxRetriesVar } from "#shared/worker-bindings.ts";

/** Bindings, vars and secrets of kafka-mirror (see wrangler.toml), validated at the boundary. */
export const kafkaMirrorEnvSchema = z.object({
  /** Full URL of the bridge's mirror ingest, e.g. `https://bridge.example.gov/v1/mirror`. */
  BRIDGE_MIRROR_URL: z.url({ protocol: /^https?$/ }),
  /** HMAC key shared with the bridge: `npx wrangler secret put BRIDGE_MIRROR_SECRET`. */
  BRIDGE_MIRROR_SECRET: z.string().min(16, "BRIDGE_MIRROR_SECRET must be at least 16 characters"),
  MAX_RETRIES: maxRetriesVar,
  MIRROR_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  DEAD_LETTER_QUEUE: deadLetterQueueBinding("kafka-mirror-dlq"),
});

export type KafkaMirrorEnv = z.output<typeof kafkaMirrorEnvSchema>;
