import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";
import { argText, type RedisCommand } from "./command-body.ts";

/**
 * What the Redis REST gateway runs: an allow list, not a block list. A command that is not on it
 * is refused before anything reaches Redis, and the same list is the command part of the Redis
 * ACL user the gateway connects as (`redis-acl.ts`), so a Lua script cannot call past it either:
 * Redis checks ACLs on every `redis.call` inside a script.
 *
 * The list holds the data commands `@upstash/redis` 1.39 sends and the commands the scripts of
 * `@upstash/ratelimit` 2.2 and the producer's dedup store call, restricted to what Redis 7.0 (the
 * oldest supported server) knows. `name|subcommand` entries allow one subcommand only.
 * Anything else — server administration, FLUSHALL/FLUSHDB, KEYS, SELECT/SWAPDB/MOVE/COPY (they
 * reach other databases), RESTORE/MIGRATE, FUNCTION/FCALL, SCRIPT FLUSH, … — is refused unless
 * `redisRest.allowCommands` adds it for a Redis dedicated to the gateway.
 */
const SERVED_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  connection: ["ping", "echo", "time", "dbsize"],
  keys: [
    "del",
    "unlink",
    "exists",
    "touch",
    "type",
    "expire",
    "expireat",
    "pexpire",
    "pexpireat",
    "persist",
    "ttl",
    "pttl",
    "rename",
    "renamenx",
    "randomkey",
    "scan",
  ],
  strings: [
    "get",
    "set",
    "getdel",
    "getex",
    "getset",
    "getrange",
    "setrange",
    "setex",
    "psetex",
    "setnx",
    "mget",
    "mset",
    "msetnx",
    "append",
    "strlen",
    "incr",
    "incrby",
    "incrbyfloat",
    "decr",
    "decrby",
  ],
  bits: ["getbit", "setbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"],
  hashes: [
    "hset",
    "hsetnx",
    "hmset",
    "hget",
    "hmget",
    "hgetall",
    "hdel",
    "hexists",
    "hincrby",
    "hincrbyfloat",
    "hkeys",
    "hvals",
    "hlen",
    "hstrlen",
    "hrandfield",
    "hscan",
  ],
  lists: [
    "lpush",
    "lpushx",
    "rpush",
    "rpushx",
    "lpop",
    "rpop",
    "lmpop",
    "lmove",
    "lindex",
    "linsert",
    "llen",
    "lpos",
    "lrange",
    "lrem",
    "lset",
    "ltrim",
  ],
  sets: [
    "sadd",
    "srem",
    "scard",
    "sismember",
    "smismember",
    "smembers",
    "smove",
    "spop",
    "srandmember",
    "sdiff",
    "sdiffstore",
    "sinter",
    "sintercard",
    "sinterstore",
    "sunion",
    "sunionstore",
    "sscan",
  ],
  sortedSets: [
    "zadd",
    "zcard",
    "zcount",
    "zdiffstore",
    "zincrby",
    "zinterstore",
    "zlexcount",
    "zmscore",
    "zpopmax",
    "zpopmin",
    "zrange",
    "zrank",
    "zrem",
    "zremrangebylex",
    "zremrangebyrank",
    "zremrangebyscore",
    "zrevrank",
    "zscan",
    "zscore",
    "zunion",
    "zunionstore",
  ],
  hyperLogLog: ["pfadd", "pfcount", "pfmerge"],
  geo: ["geoadd", "geodist", "geohash", "geopos", "geosearch", "geosearchstore"],
  // XREAD/XREADGROUP without BLOCK only (checked below); XGROUP and XINFO with every subcommand.
  streams: [
    "xadd",
    "xack",
    "xautoclaim",
    "xclaim",
    "xdel",
    "xgroup",
    "xinfo",
    "xlen",
    "xpending",
    "xrange",
    "xrevrange",
    "xread",
    "xreadgroup",
    "xtrim",
  ],
  // Channels are limited to the key patterns by the ACL user (`&pattern`).
  pubsub: ["publish"],
  // SCRIPT KILL runs on a connection of its own, so it can stop a script that blocks the others.
  scripting: ["eval", "evalsha", "eval_ro", "evalsha_ro", "script|load", "script|exists", "script|kill"],
};

/** The allow list, flattened: lower-case names and `name|subcommand` entries. */
export const ALLOWED_COMMANDS: readonly string[] = Object.values(SERVED_COMMANDS).flat();

/**
 * Commands the gateway sends itself on its own connections and never serves as commands:
 * `MULTI`/`EXEC`/`DISCARD` frame `POST /multi-exec`; the subscribe family runs on the dedicated
 * connection of one `/subscribe` or `/psubscribe` event stream (`subscriptions.ts`), on the
 * channels the ACL user's `&pattern` rules allow.
 */
export const GATEWAY_OWN_COMMANDS: readonly string[] = [
  "multi",
  "exec",
  "discard",
  "subscribe",
  "psubscribe",
  "unsubscribe",
  "punsubscribe",
];

/**
 * What a read-only token may run (Upstash issues one beside the full token): the commands of the
 * allow list that only read, as Redis flags them (`readonly`), less the keyspace-wide ones Upstash
 * also withholds from its read-only token (`SCAN`, `RANDOMKEY`; `KEYS` is not served at all). A
 * command must be on the allow list too: `redisRest.allowCommands` never widens this set.
 * Scripts: only `EVAL_RO`/`EVALSHA_RO`, which Redis itself runs with writes refused.
 */
const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  "ping",
  "echo",
  "time",
  "dbsize",
  "exists",
  "touch",
  "type",
  "ttl",
  "pttl",
  "get",
  "getrange",
  "mget",
  "strlen",
  "getbit",
  "bitcount",
  "bitpos",
  "bitfield_ro",
  "hget",
  "hmget",
  "hgetall",
  "hexists",
  "hkeys",
  "hvals",
  "hlen",
  "hstrlen",
  "hrandfield",
  "hscan",
  "lindex",
  "llen",
  "lpos",
  "lrange",
  "scard",
  "sismember",
  "smismember",
  "smembers",
  "srandmember",
  "sdiff",
  "sinter",
  "sintercard",
  "sunion",
  "sscan",
  "zcard",
  "zcount",
  "zlexcount",
  "zmscore",
  "zrange",
  "zrank",
  "zrevrank",
  "zscore",
  "zunion",
  "zscan",
  "pfcount",
  "geodist",
  "geohash",
  "geopos",
  "geosearch",
  "xlen",
  "xrange",
  "xrevrange",
  "xread",
  "xpending",
  "xinfo",
  "eval_ro",
  "evalsha_ro",
  "script|exists",
]);

/** The commands a read-only token may run (for docs and tests). */
export const READ_ONLY_ALLOWED: readonly string[] = [...READ_ONLY_COMMANDS];

/**
 * Commands refused even when `allowCommands` names them: they block, subscribe or change the
 * state of a connection the gateway shares between requests, so they cannot work over REST.
 */
const CONNECTION_UNSAFE: ReadonlyMap<string, string> = new Map([
  ...["blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "wait", "waitaof"].map(
    (name) => [name, "blocking commands are not served over REST; use the non-blocking variant"] as const,
  ),
  ...["subscribe", "psubscribe", "unsubscribe", "punsubscribe"].map(
    (name) => [name, "subscribe through the /subscribe/{channel} or /psubscribe/{pattern} event stream"] as const,
  ),
  ...["ssubscribe", "sunsubscribe", "monitor", "sync", "psync"].map(
    (name) => [name, "streaming commands are not served by this gateway"] as const,
  ),
  ...["multi", "exec", "discard", "watch", "unwatch"].map(
    (name) => [name, "send transactions to POST /multi-exec instead"] as const,
  ),
  ...["select", "auth", "hello", "client", "quit", "reset", "readonly", "readwrite"].map(
    (name) => [name, "connection-state commands are not served over REST"] as const,
  ),
]);

const COMMAND_NAME = /^[a-z][a-z0-9_.-]*(\|[a-z][a-z0-9_-]*)?$/;

/** One entry of `redisRest.allowCommands`: `flushdb`, `keys`, `script|flush`, … */
export const allowedCommandEntry = z
  .string()
  .transform((name) => name.trim().toLowerCase())
  .refine((name) => COMMAND_NAME.test(name), { error: "a command name, or name|subcommand (e.g. script|flush)" })
  .refine((name) => !CONNECTION_UNSAFE.has(name.split("|")[0] ?? ""), {
    error: "blocking, subscribing and connection-state commands cannot be served over REST",
  });

export interface CommandPolicyOptions {
  /** Commands served beyond the allow list (`redisRest.allowCommands`), already validated. */
  readonly allowCommands?: readonly string[];
}

/** The allow list plus the configured extras; checks commands and writes the ACL command rules. */
export class CommandPolicy {
  readonly #allowed: ReadonlySet<string>;

  constructor(options: CommandPolicyOptions = {}) {
    const extras = (options.allowCommands ?? []).map((name) => allowedCommandEntry.parse(name));
    this.#allowed = new Set([...ALLOWED_COMMANDS, ...extras]);
  }

  /** True when the policy serves `name` (with `subcommand`, when the command has one). */
  allows(name: string, subcommand?: string): boolean {
    const lower = name.toLowerCase();
    if (CONNECTION_UNSAFE.has(lower)) return false;
    if (this.#allowed.has(lower)) return true;
    return subcommand !== undefined && this.#allowed.has(`${lower}|${subcommand.toLowerCase()}`);
  }

  /** Throws `bad_request` in Upstash's shape (`{error: "NOPERM …"}`) when `command` must not run. */
  assertAllowed(command: RedisCommand): void {
    const name = command[0].toLowerCase();
    const unsafe = CONNECTION_UNSAFE.get(name);
    if (unsafe !== undefined) throw refused(name, unsafe);
    const sub = command[1] === undefined ? undefined : argText(command[1]);
    if (!this.allows(name, sub)) {
      const shown = this.#hasSubcommandRules(name) && sub !== undefined ? `${name}|${sub}` : name;
      throw refused(shown.toLowerCase(), "not on its allow list (bridges/README.md, Redis REST gateway)");
    }
    if ((name === "xread" || name === "xreadgroup") && command.some((arg) => argText(arg).toLowerCase() === "block")) {
      throw refused(`${name}|block`, "blocking reads are not served over REST; omit BLOCK and poll");
    }
  }

  /**
   * For a read-only token, on top of `assertAllowed`: throws NOPERM unless the command only reads.
   * `ZRANGE … STORE`-like writes do not exist in the set (ZRANGESTORE is its own command).
   */
  assertReadOnly(command: RedisCommand): void {
    const name = command[0].toLowerCase();
    const sub = command[1] === undefined ? undefined : argText(command[1]).toLowerCase();
    if (READ_ONLY_COMMANDS.has(name) || (sub !== undefined && READ_ONLY_COMMANDS.has(`${name}|${sub}`))) return;
    const shown = name === "script" && sub !== undefined ? `${name}|${sub}` : name;
    throw new EdgebusError(
      "bad_request",
      `NOPERM this user has no permissions to run the '${shown}' command; the read-only token runs read commands only`,
      { details: { command: shown, readOnly: true } },
    );
  }

  /** The command part of the gateway's ACL user: `-@all` and one `+name` per allowed command. */
  aclCommandRules(): string[] {
    const commands = [...this.#allowed, ...GATEWAY_OWN_COMMANDS].filter((name, i, all) => all.indexOf(name) === i);
    return ["-@all", ...commands.map((name) => `+${name}`)];
  }

  #hasSubcommandRules(name: string): boolean {
    for (const entry of this.#allowed) if (entry.startsWith(`${name}|`)) return true;
    return false;
  }
}

function refused(name: string, reason: string): EdgebusError {
  // Upstash (and Redis behind an ACL) answers a command a token may not run with NOPERM.
  return new EdgebusError(
    "bad_request",
    `NOPERM this user has no permissions to run the '${name}' command; refused by the REST gateway: ${reason}`,
    { details: { command: name } },
  );
}
