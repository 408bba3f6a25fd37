import { z } from "zod";
import { deadLetterQueueBinding, hyperdriveBinding, maxRetriesVar } from "#shared/worker-bindings.ts";

/** Hosts a plain `http://` bridge URL may name even in production: the same machine. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * True when `url` would carry events (personal data) over plain HTTP to another machine. The
 * HMAC signature keeps a batch from being forged or replayed, not from being read.
 */
export function isRemotePlainHttp(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === "http:" && !LOOPBACK_HOSTS.has(parsed.hostname);
}

/** As the producer reads it: unset (or `""`) is production. */
export const ENVIRONMENTS = ["development", "staging", "production"] as const;

/** Bindings, vars and secrets of kafka-mirror (see wrangler.toml), validated at the boundary. */
export const kafkaMirrorEnvSchema = z
  .object({
    /** Outside `development` (unset = production) a remote `http://` BRIDGE_MIRROR_URL is refused. */
    ENVIRONMENT: z.preprocess(
      (value) => (value === "" ? undefined : value),
      z.enum(ENVIRONMENTS, { message: `must be one of ${ENVIRONMENTS.join(", ")}` }).default("production"),
    ),
    /** Full URL of the bridge's mirror ingest, e.g. `https://bridge.example.gov/v1/mirror`. */
    BRIDGE_MIRROR_URL: z.url({ protocol: /^https?$/ }),
    /** HMAC key shared with the bridge: `npx wrangler secret put BRIDGE_MIRROR_SECRET`. */
    BRIDGE_MIRROR_SECRET: z.string().min(16, "BRIDGE_MIRROR_SECRET must be at least 16 characters"),
    MAX_RETRIES: maxRetriesVar,
    MIRROR_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
    DEAD_LETTER_QUEUE: deadLetterQueueBinding("kafka-mirror-dlq"),
    /**
     * Postgres, for the consumer metrics only (`edgebus.consumer_metrics`). Optional: mirroring
     * never depends on it; without it the Worker writes no metrics and says so once per isolate.
     */
    HYPERDRIVE: hyperdriveBinding.optional(),
  })
  .superRefine((env, ctx) => {
    if (env.ENVIRONMENT !== "development" && isRemotePlainHttp(env.BRIDGE_MIRROR_URL)) {
      ctx.addIssue({
        code: "custom",
        path: ["BRIDGE_MIRROR_URL"],
        message: `must be https:// in ${env.ENVIRONMENT}: events would cross the network in clear text (http:// is allowed only for 127.0.0.1, localhost and [::1], or with ENVIRONMENT development)`,
      });
    }
  });

export type KafkaMirrorEnv = z.output<typeof kafkaMirrorEnvSchema>;
