import type { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";
import { createLogger } from "#shared/log.ts";
import { GATEWAY_COMMAND_TIMEOUT_MS, withCommandDeadline } from "./command-deadline.ts";
import type { CommandPolicy } from "./command-policy.ts";

const log = createLogger({ component: "redis-rest" });

/**
 * Administrative commands that are harmless when they do run. The gateway's ACL user gets NOPERM
 * for each; a user that can run any of them (the `default` user, `+@all`) can also run FLUSHALL,
 * SELECT or CONFIG SET — inside a Lua script too, where the gateway's allow list cannot look.
 */
const PROBES: readonly (readonly [name: string, ...args: string[]])[] = [
  ["config", "get", "busy-reply-threshold"],
  ["acl", "whoami"],
  ["function", "stats"],
];

export interface RedisUserGuardOptions {
  readonly policy: CommandPolicy;
  /** `redisRest.allowUnrestrictedUser`: serve (with a warning) instead of refusing. */
  readonly allowUnrestrictedUser: boolean;
  /** How long one probe command may wait for Redis (`GATEWAY_COMMAND_TIMEOUT_MS` by default); past it, no answer yet. */
  readonly probeTimeoutMs?: number;
}

export type RedisUserVerdict = { readonly restricted: true } | { readonly restricted: false; readonly ran: string };

/**
 * Refuses to serve over a Redis connection whose user is not restricted to the allow list, unless
 * the operator allowed it. Probes once per connection; requests wait for the probe's answer.
 */
export class RedisUserGuard {
  readonly #redis: Redis;
  readonly #options: RedisUserGuardOptions;
  #verdict: Promise<RedisUserVerdict> | undefined;

  constructor(redis: Redis, options: RedisUserGuardOptions) {
    this.#redis = redis;
    this.#options = options;
    // A reconnect may reach another server (failover) or a user an operator changed meanwhile:
    // the next request probes again (queued first, so it runs before that request's commands).
    redis.on("close", () => {
      this.#verdict = undefined;
    });
  }

  /** Resolves when requests may be served; rejects with `upstream_unavailable` otherwise. */
  async assertServable(): Promise<void> {
    let verdict: RedisUserVerdict;
    try {
      verdict = await this.verdict();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new EdgebusError("upstream_unavailable", `ERR redis is unavailable: ${reason}`, { cause: error });
    }
    if (verdict.restricted || this.#options.allowUnrestrictedUser) return;
    throw new EdgebusError("upstream_unavailable", unrestrictedMessage(verdict.ran), { retryable: false });
  }

  /** The probe's answer for the current connection (probing once per connection). */
  verdict(): Promise<RedisUserVerdict> {
    if (this.#verdict === undefined) {
      const probing = this.#probe();
      this.#verdict = probing;
      // A transport failure is not an answer: the next request probes again.
      probing.catch(() => {
        if (this.#verdict === probing) this.#verdict = undefined;
      });
    }
    return this.#verdict;
  }

  /**
   * At startup: throws when Redis answers and its user is unrestricted without
   * `allowUnrestrictedUser`; warns when it is allowed. When Redis does not answer within
   * `timeoutMs` the bridge starts anyway and every request waits for the probe.
   */
  async verifyAtStartup(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      const verdict = await Promise.race([this.verdict().catch(() => undefined), timeout]);
      if (verdict === undefined || verdict.restricted) return;
      if (!this.#options.allowUnrestrictedUser) {
        throw new EdgebusError("bad_request", unrestrictedMessage(verdict.ran));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async #probe(): Promise<RedisUserVerdict> {
    for (const [name, ...args] of PROBES) {
      if (this.#options.policy.allows(name, args[0])) continue;
      try {
        await withCommandDeadline(
          this.#redis.call(name, ...args),
          this.#options.probeTimeoutMs ?? GATEWAY_COMMAND_TIMEOUT_MS,
        );
      } catch (error) {
        // A transport failure, or Redis busy with a script or loading: no answer yet (probe again later).
        if (!isReplyError(error) || /^(BUSY|LOADING|MASTERDOWN|TRYAGAIN) /.test(error.message)) throw error;
        // Refused by the ACL, or renamed away (rename-command): this user cannot run it.
        if (error.message.startsWith("NOPERM") || error.message.startsWith("ERR unknown command")) continue;
        // Any other error means Redis accepted the command for this user: assume the worst.
      }
      const ran = [name.toUpperCase(), ...args.slice(0, 1).map((a) => a.toUpperCase()), ...args.slice(1)].join(" ");
      if (this.#options.allowUnrestrictedUser) {
        log.log("warn", "the Redis REST gateway's Redis user is not restricted to the allow list", {
          note: `${ran} ran; a token holder can run any command inside Lua (FLUSHALL, SELECT, CONFIG SET). redisRest.allowUnrestrictedUser is set; create the ACL user from npm run bridge -- --print-redis-acl (docs/security.md)`,
        });
      }
      return { restricted: false, ran };
    }
    return { restricted: true };
  }
}

function unrestrictedMessage(ran: string): string {
  return (
    `ERR the Redis REST gateway refuses to serve: its Redis user is not restricted to the allow list (${ran} ran), ` +
    "so a token holder could run any command inside a Lua script. Connect redisRest.url as the ACL user printed by " +
    "`npm run bridge -- --print-redis-acl`, or set redisRest.allowUnrestrictedUser: true (docs/security.md)"
  );
}

function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}
