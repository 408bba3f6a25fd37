/**
 * The Redis REST gateway's ACL user for a test: created through a full-access connection from the
 * same rules the bridge prints (`bridges/redis-rest/redis-acl.ts`), with a random name and
 * password per run, and deleted by `drop()`. Users a crashed run left behind (named
 * `edgebus-test-<created ms>-…`) are deleted after an hour by the next run. Node only.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createGatewayAclUser, redisUrlAs, redisUrlParts } from "../../bridges/redis-rest/redis-acl.ts";

const PREFIX = "edgebus-test-";
const STALE_AFTER_MS = 60 * 60 * 1000;

export interface GatewayRedisUser {
  /** `redisUrl` with the user's credentials: what the gateway connects with. */
  readonly url: string;
  readonly username: string;
  drop(): Promise<void>;
}

export interface GatewayRedisUserOptions {
  /** Default `["*"]`: tests use keys of their own prefixes. */
  readonly keyPatterns?: readonly string[];
  readonly allowCommands?: readonly string[];
}

export async function createGatewayRedisUser(
  redisUrl: string,
  options: GatewayRedisUserOptions = {},
): Promise<GatewayRedisUser> {
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await admin.connect();
    await dropStaleTestUsers(admin);
    const username = `${PREFIX}${Date.now()}-${randomBytes(4).toString("hex")}`;
    const password = randomBytes(24).toString("hex");
    await createGatewayAclUser(admin, username, password, {
      keyPatterns: options.keyPatterns ?? ["*"],
      ...(options.allowCommands ? { allowCommands: options.allowCommands } : {}),
      db: redisUrlParts(redisUrl).db,
    });
    return {
      url: redisUrlAs(redisUrl, username, password),
      username,
      drop: async () => {
        const cleanup = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
        try {
          await cleanup.call("ACL", "DELUSER", username);
        } finally {
          cleanup.disconnect();
        }
      },
    };
  } finally {
    admin.disconnect();
  }
}

async function dropStaleTestUsers(admin: Redis): Promise<void> {
  const users = (await admin.call("ACL", "USERS")) as string[];
  const stale = users.filter((name) => {
    if (!name.startsWith(PREFIX)) return false;
    const created = Number(name.slice(PREFIX.length).split("-")[0]);
    return Number.isFinite(created) && Date.now() - created > STALE_AFTER_MS;
  });
  if (stale.length > 0) await admin.call("ACL", "DELUSER", ...stale);
}
