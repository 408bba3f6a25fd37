import { z } from "zod";
import { allowedCommandEntry } from "./command-policy.ts";

/**
 * The bridge config's `redisRest` section (`bridges/config.ts` mounts it; `print-acl.ts` reads it
 * alone). Field by field: docs/configuration.md and bridge.example.yaml.
 */
const MIB = 1_048_576;

const token = z.string().min(16, "must be at least 16 characters");
/** One token, or a list that is all accepted (rotation: the new one and the old one). */
const tokens = z
  .union([token, z.array(token).min(1, "at least one token")])
  .transform((value) => (Array.isArray(value) ? value : [value]));

export const redisRestConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The gateway's Redis ACL user: `redis://<user>:<password>@host:6379/<db>`. */
    url: z.string().url().default("redis://127.0.0.1:6379"),
    /** The full token(s): every served command (BRIDGE_REDIS_REST_TOKEN, _PREVIOUS while rotating). */
    token: tokens.optional(),
    /** Read-only token(s): read commands only (BRIDGE_REDIS_REST_READONLY_TOKEN, _PREVIOUS). */
    readOnlyToken: tokens.optional(),
    /** Accept the token as the `?_token=` query parameter, as Upstash does (URLs end up in logs). */
    allowQueryToken: z.boolean().default(true),
    /** `/subscribe` and `/psubscribe` event streams (one Redis connection each). */
    subscriptions: z
      .object({
        enabled: z.boolean().default(true),
        /** Streams open at once on this bridge; one more gets 503 + Retry-After. */
        maxStreams: z.number().int().min(1).max(10_000).default(256),
        /** Channels or patterns in one stream (one request). */
        maxChannelsPerStream: z.number().int().min(1).max(1000).default(16),
        /** Bytes a stream may have waiting for a slow client before it is ended. */
        maxBufferedBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(MIB),
        /** An SSE comment this often, so proxies keep the stream open. */
        heartbeatSeconds: z.number().int().min(1).max(300).default(15),
      })
      .prefault({}),
    /** Keys (and channels) the gateway's Redis ACL user may touch; see --print-redis-acl. */
    keyPatterns: z.array(z.string().regex(/^\S+$/, "a Redis key pattern without spaces")).min(1).default(["edgebus:*"]),
    /** Commands served beyond the allow list, for a Redis dedicated to the gateway ("keys", "script|flush"). */
    allowCommands: z.array(allowedCommandEntry).default([]),
    /** Start even when the Redis user is not restricted to the allow list (a warning is logged). */
    allowUnrestrictedUser: z.boolean().default(false),
    /** Redis connections for concurrent /multi-exec calls; one more gets 503 + Retry-After. */
    maxTransactionConnections: z.number().int().min(1).max(1000).default(16),
    /** Largest request body (Upstash's own limit is 1 MB). */
    maxBodyBytes: z.number().int().min(1024).default(MIB),
    /** Bytes of request bodies all `/redis` calls hold at once (>= maxBodyBytes); 429 + Retry-After beyond. */
    bodyBudgetBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * MIB),
  })
  .refine((section) => section.bodyBudgetBytes >= section.maxBodyBytes, {
    path: ["bodyBudgetBytes"],
    error: "must be at least redisRest.maxBodyBytes",
  })
  // Runs even when a field failed its own check (it may then still be a string): lists only.
  .refine(
    (section) =>
      !Array.isArray(section.readOnlyToken) ||
      !Array.isArray(section.token) ||
      !section.readOnlyToken.some((readOnly) => section.token?.includes(readOnly)),
    {
      path: ["readOnlyToken"],
      error: "must differ from every full token",
    },
  );

export type RedisRestConfig = z.output<typeof redisRestConfigSchema>;
