import type { Redis } from "@upstash/redis";
import { hexDigest } from "../hex-digest.ts";

/**
 * A Lua script that travels by its SHA-1: `EVALSHA` first, and the script's text (`EVAL`) only
 * when Redis answers `NOSCRIPT` — its first use after Redis started, after a `SCRIPT FLUSH`, or
 * once Redis evicted it. Redis runs nothing for a `NOSCRIPT` answer, so running the text then is
 * the script's one execution.
 *
 * Why: the dedup store's scripts run on every publish request. Sent as text they cost every
 * request their length on the wire to Upstash or the bridge (about 1.4 KB for `beginMany`), and
 * Redis hashes the text again on every call; by SHA-1 a request carries 40 characters.
 *
 * The SHA-1 is computed once per isolate (Web Crypto, so in workerd too) and kept as a string,
 * not a promise, so no request waits on a promise another request created.
 */
export class RedisScript {
  readonly text: string;
  #sha: string | undefined;

  constructor(text: string) {
    this.text = text;
  }

  /** The SHA-1 Redis knows the script by (hex, lower case). */
  async sha(): Promise<string> {
    if (this.#sha === undefined) this.#sha = await hexDigest("SHA-1", this.text);
    return this.#sha;
  }

  async run<T>(redis: Redis, keys: string[], args: (string | number)[]): Promise<T> {
    const sha = await this.sha();
    try {
      return await redis.evalsha<(string | number)[], T>(sha, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await redis.eval<(string | number)[], T>(this.text, keys, args);
    }
  }
}

/** Redis's answer for an unknown SHA-1 starts with `NOSCRIPT` (Upstash and the bridge pass it on verbatim). */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && /\bNOSCRIPT\b/i.test(error.message);
}
