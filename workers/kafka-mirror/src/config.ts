import { z } from "zod";
import { deadLetterQueueBinding, maxRetriesVar } from "#shared/worker-bindings.ts";

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

/** Bindings, vars and secrets of kafka-mirror (see wrangler.toml), validated at the boundary. */
export const kafkaMirrorEnvSchema = z
  .object({
    /** `production` (also when unset) refuses a remote `http://` BRIDGE_MIRROR_URL. */
    ENVIRONMENT: z.string().trim().min(1).default("production"),
    /** Full URL of the bridge's mirror ingest, e.g. `https://bridge.example.gov/v1/mirror`. */
    BRIDGE_MIRROR_URL: z.url({ protocol: /^https?$/ }),
    /** HMAC key shared with the bridge: `npx wrangler secret put BRIDGE_MIRROR_SECRET`. */
    BRIDGE_MIRROR_SECRET: z.string().min(16, "BRIDGE_MIRROR_SECRET must be at least 16 characters"),
    MAX_RETRIES: maxRetriesVar,
    MIRROR_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
    DEAD_LETTER_QUEUE: deadLetterQueueBinding("kafka-mirror-dlq"),
  })
  .superRefine((env, ctx) => {
    if (env.ENVIRONMENT === "production" && isRemotePlainHttp(env.BRIDGE_MIRROR_URL)) {
      ctx.addIssue({
        code: "custom",
        path: ["BRIDGE_MIRROR_URL"],
        message:
          "must be https:// in production: events would cross the network in clear text (http:// is allowed only for 127.0.0.1, localhost and [::1]; ENVIRONMENT is production)",
      });
    }
  });

export type KafkaMirrorEnv = z.output<typeof kafkaMirrorEnvSchema>;
