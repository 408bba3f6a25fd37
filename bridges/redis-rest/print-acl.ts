/**
 * `npm run bridge -- --print-redis-acl [--config bridge.yaml]`: the `ACL SETUSER` line for the
 * Redis user the gateway connects as, from the bridge's own config (`redisRest.url`,
 * `keyPatterns`, `allowCommands`). Only the `redisRest` section is read, so no other secret has to
 * be present. The line goes to stdout (pipe it into `redis-cli` as an administrator); what to do
 * with it goes to stderr.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";
import { withoutCredentials } from "#shared/log.ts";
import { applyEnvironment } from "../config.ts";
import { redisRestConfigSchema } from "./config-schema.ts";
import { printableGatewayAcl } from "./redis-acl.ts";

export interface RedisAclPrintout {
  /** The command, one line. */
  readonly line: string;
  /** What to do with it, for a human. */
  readonly notes: string;
}

export async function redisAclPrintout(
  configPath: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<RedisAclPrintout> {
  let file: Record<string, unknown> = {};
  if (configPath !== undefined) {
    const parsed: unknown = parseYaml(await readFile(configPath, "utf8")) ?? {};
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new EdgebusError("bad_request", "bridge config must be a mapping at the top level");
    }
    file = parsed as Record<string, unknown>;
  }
  const merged = applyEnvironment(file, env);
  const section = redisRestConfigSchema.safeParse(merged.redisRest ?? {});
  if (!section.success) {
    throw new EdgebusError("bad_request", `invalid redisRest config:\n${z.prettifyError(section.error)}`);
  }
  const { url, keyPatterns, allowCommands } = section.data;
  const { line, username } = printableGatewayAcl(url, { keyPatterns, allowCommands });
  const target = new URL(withoutCredentials(url));
  target.username = encodeURIComponent(username);
  target.password = "<password>";
  const notes = [
    `# The Redis REST gateway's ACL user (keys and channels: ${keyPatterns.join(" ")}).`,
    "# Run the line below as a Redis administrator (e.g. `... | redis-cli -h <host>`), then point the bridge at it:",
    `#   redisRest.url / REDIS_URL = ${target.toString().replace("%3Cpassword%3E", "<password>")}`,
    line.includes("><password>")
      ? "# Replace <password> with the user's password first (redisRest.url carries none, or names no user)."
      : "# The password appears only as its SHA-256 (#…), which Redis accepts.",
  ].join("\n");
  return { line, notes };
}
