import type { Redis } from "ioredis";
import { withDeadline } from "../deadline.ts";

/** How long the gateway waits for Redis's answer to a command before the request gets a 503. */
export const GATEWAY_COMMAND_TIMEOUT_MS = 10_000;

/** The text ioredis's own `commandTimeout` rejects with, kept so logs and 503 bodies read the same. */
const TIMED_OUT = "Command timed out";

/**
 * `work`, or a rejection with `Command timed out` once `timeoutMs` passed without its answer: one
 * timer for a whole pipeline, where ioredis's `commandTimeout` arms and clears one per command
 * (about a tenth of the gateway's CPU at ~95 commands per pipeline). As with ioredis's timeout,
 * the commands stay in the connection's queue, so replies that come later still pair with their
 * commands and are dropped.
 */
export function withCommandDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  return withDeadline(work, timeoutMs, () => new Error(TIMED_OUT));
}

/**
 * A new connection like `redis` (same server, user and database) whose commands each time out
 * after `timeoutMs`: the gateway's own connection runs without ioredis's per-command timer (its
 * callers set one deadline per call), while the connections a transaction, a subscription or
 * `SCRIPT KILL` uses keep ioredis's.
 */
export function duplicateWithTimeout(redis: Redis, timeoutMs = GATEWAY_COMMAND_TIMEOUT_MS): Redis {
  return redis.duplicate({ commandTimeout: redis.options.commandTimeout ?? timeoutMs });
}
