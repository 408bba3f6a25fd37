import { z } from "zod";
import { allowedCommandEntry } from "./command-policy.ts";

/**
 * The bridge config's `redisRest` section (`bridges/config.ts` mounts it; `print-acl.ts` reads it
 * alone). Field by field: docs/configuration.md and bridge.example.yaml.
 */
const MIB = 1_048_576;

export const redisRestConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The gateway's Redis ACL user: `redis://<user>:<password>@host:6379/<db>`. */
    url: z.string().url().default("redis://127.0.0.1:6379"),
    token: z.string().min(16, "must be at least 16 characters").optional(),
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
  });

export type RedisRestConfig = z.output<typeof redisRestConfigSchema>;
