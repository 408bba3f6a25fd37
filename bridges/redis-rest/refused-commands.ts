import { EdgebusError } from "#shared/errors.ts";
import type { RedisCommand } from "./command-body.ts";

/**
 * Commands the gateway refuses with a 400, and why. Single commands and pipelines share
 * multiplexed connections, so anything that blocks a connection, changes its state, or
 * administers the server must not run through a REST call:
 */
const REFUSED: ReadonlyMap<string, string> = new Map([
  // Blocking: one blocked command stalls every request multiplexed on the same connection.
  ...["blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "wait", "waitaof"].map(
    (name) => [name, "blocking commands are not served over REST; use the non-blocking variant"] as const,
  ),
  // Streaming / connection state: the REST API has no connection to keep state on.
  ...["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "monitor"].map(
    (name) => [name, "streaming commands are not served by this gateway"] as const,
  ),
  ...["multi", "exec", "discard", "watch", "unwatch"].map(
    (name) => [name, "send transactions to POST /multi-exec instead"] as const,
  ),
  ...["select", "swapdb", "auth", "hello", "client", "quit", "reset", "readonly", "readwrite"].map(
    (name) => [name, "connection-state commands are not served over REST"] as const,
  ),
  // Server administration belongs to operators with direct access, not REST token holders.
  ...[
    "shutdown",
    "sync",
    "psync",
    "replicaof",
    "slaveof",
    "debug",
    "config",
    "acl",
    "module",
    "failover",
    "cluster",
    "save",
    "bgsave",
    "bgrewriteaof",
    "migrate",
  ].map((name) => [name, "server administration commands are not served over REST"] as const),
]);

/** SCRIPT subcommands that are safe through the gateway (the client uses LOAD and EXISTS). */
const ALLOWED_SCRIPT_SUBCOMMANDS: ReadonlySet<string> = new Set(["load", "exists"]);

/** Throws `bad_request` when `command` must not run through the gateway. */
export function assertCommandAllowed(command: RedisCommand): void {
  const name = command[0].toLowerCase();
  const reason = REFUSED.get(name);
  if (reason !== undefined) throw refused(name, reason);
  if ((name === "xread" || name === "xreadgroup") && command.some((arg) => arg.toLowerCase() === "block")) {
    throw refused(`${name} block`, "blocking reads are not served over REST; omit BLOCK and poll");
  }
  if (name === "script" && !ALLOWED_SCRIPT_SUBCOMMANDS.has((command[1] ?? "").toLowerCase())) {
    throw refused(`script ${command[1] ?? ""}`.trim(), "only SCRIPT LOAD and SCRIPT EXISTS are served");
  }
}

function refused(name: string, reason: string): EdgebusError {
  return new EdgebusError("bad_request", `ERR command '${name}' is refused by the REST gateway: ${reason}`, {
    details: { command: name },
  });
}
