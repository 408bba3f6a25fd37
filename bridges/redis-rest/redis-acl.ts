import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { EdgebusError } from "#shared/errors.ts";
import { CommandPolicy } from "./command-policy.ts";

/**
 * The Redis ACL user the gateway connects as, generated from the same allow list the gateway
 * enforces (`command-policy.ts`), so the documentation, dev, tests and the chaos suite cannot
 * drift from the code. Redis checks it on every command, inside Lua scripts too: a script
 * calling `select`, `flushall` or `keys` as this user fails.
 *
 * `npm run bridge -- --print-redis-acl` prints the line for the bridge's config.
 */
export interface GatewayAclOptions {
  /** Key patterns the user may touch (`~pattern`); also the channels it may publish to. */
  readonly keyPatterns: readonly string[];
  /** `redisRest.allowCommands`: commands served beyond the allow list. */
  readonly allowCommands?: readonly string[];
  /** The database the gateway uses (from `redisRest.url`); other than 0 it may `SELECT` only it. */
  readonly db?: number;
}

export type AclPassword = { readonly plain: string } | { readonly sha256: string } | { readonly placeholder: string };

/** The ACL rules (everything after `ACL SETUSER <name>`), password first. */
export function gatewayAclRules(options: GatewayAclOptions, password: AclPassword): string[] {
  const policy = new CommandPolicy(options.allowCommands ? { allowCommands: options.allowCommands } : {});
  const db = options.db ?? 0;
  const passwordRule =
    "plain" in password
      ? `>${password.plain}`
      : "sha256" in password
        ? `#${password.sha256}`
        : `>${password.placeholder}`;
  return [
    "reset",
    "on",
    passwordRule,
    ...options.keyPatterns.map((pattern) => `~${pattern}`),
    "resetchannels",
    ...options.keyPatterns.map((pattern) => `&${pattern}`),
    ...policy.aclCommandRules(),
    // ioredis selects the URL's database on every (re)connect; only that one.
    ...(db === 0 ? [] : [`+select|${db}`]),
  ];
}

/** One line for `redis-cli`: `ACL SETUSER <name> reset on … -@all +get …`. */
export function gatewayAclLine(username: string, options: GatewayAclOptions, password: AclPassword): string {
  return ["ACL", "SETUSER", username, ...gatewayAclRules(options, password)].join(" ");
}

/** User, password and database of a `redis://user:pass@host:port/db` URL. */
export interface RedisUrlParts {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number;
}

export function redisUrlParts(url: string): RedisUrlParts {
  const parsed = new URL(url);
  const db = Number(parsed.pathname.replace(/^\//, "") || "0");
  if (!Number.isSafeInteger(db) || db < 0) {
    throw new EdgebusError("bad_request", "the Redis URL's path must be a database number (redis://host:6379/0)");
  }
  return {
    username: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
    db,
  };
}

/** The same server and database as `url`, as another user. */
export function redisUrlAs(url: string, username: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(username);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** The name `--print-redis-acl` uses when `redisRest.url` names no user (or `default`). */
export const DEFAULT_GATEWAY_USERNAME = "edgebus-gateway";

/**
 * What `npm run bridge -- --print-redis-acl` prints for a config: the `ACL SETUSER` line for the
 * user in `redisRest.url`. Its password appears only as its SHA-256 (`#…`), which Redis accepts,
 * so the line can be pasted without putting the secret in a shell history; without a password in
 * the URL the line has a placeholder to replace.
 */
export function printableGatewayAcl(
  redisUrl: string,
  options: Omit<GatewayAclOptions, "db">,
): { line: string; username: string } {
  const parts = redisUrlParts(redisUrl);
  const username =
    parts.username === undefined || parts.username === "default" ? DEFAULT_GATEWAY_USERNAME : parts.username;
  const password: AclPassword =
    parts.password === undefined || username !== parts.username
      ? { placeholder: "<password>" }
      : { sha256: createHash("sha256").update(parts.password).digest("hex") };
  return { line: gatewayAclLine(username, { ...options, db: parts.db }, password), username };
}

/**
 * Creates (or resets) the gateway's ACL user through a connection allowed to run `ACL SETUSER`
 * (dev, tests, the chaos suite; production operators paste the printed line instead).
 */
export async function createGatewayAclUser(
  admin: Redis,
  username: string,
  password: string,
  options: GatewayAclOptions,
): Promise<void> {
  await admin.call("ACL", "SETUSER", username, ...gatewayAclRules(options, { plain: password }));
}
