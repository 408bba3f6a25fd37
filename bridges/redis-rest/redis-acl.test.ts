import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALLOWED_COMMANDS } from "./command-policy.ts";
import { gatewayAclRules, printableGatewayAcl, redisUrlAs, redisUrlParts } from "./redis-acl.ts";

const DEFAULTS = { keyPatterns: ["edgebus:*"], allowCommands: [] };

describe("the gateway's Redis ACL user", () => {
  it("allows exactly the allow list plus MULTI/EXEC/DISCARD and the subscribe family, after -@all", () => {
    const rules = gatewayAclRules(DEFAULTS, { plain: "secret" });
    expect(rules.slice(0, 3)).toEqual(["reset", "on", ">secret"]);
    const commands = rules.slice(rules.indexOf("-@all") + 1);
    expect(commands).toEqual(
      [...ALLOWED_COMMANDS, "multi", "exec", "discard", "subscribe", "psubscribe", "unsubscribe", "punsubscribe"].map(
        (name) => `+${name}`,
      ),
    );
    for (const refused of ["keys", "flushall", "flushdb", "select", "swapdb", "move", "copy", "restore", "function"]) {
      expect(commands).not.toContain(`+${refused}`);
    }
    expect(rules).toContain("~edgebus:*");
    expect(rules).toContain("&edgebus:*");
    // Channels are reset after `reset`: with acl-pubsub-default allchannels, reset alone grants every channel.
    expect(rules.indexOf("resetchannels")).toBeGreaterThan(rules.indexOf("reset"));
  });

  it("may select only the database of its URL", () => {
    expect(gatewayAclRules({ ...DEFAULTS, db: 0 }, { plain: "p" }).filter((r) => r.startsWith("+select"))).toEqual([]);
    expect(gatewayAclRules({ ...DEFAULTS, db: 13 }, { plain: "p" })).toContain("+select|13");
  });

  it("adds allowCommands to the same line", () => {
    const rules = gatewayAclRules({ ...DEFAULTS, allowCommands: ["KEYS", "script|flush"] }, { plain: "p" });
    expect(rules).toContain("+keys");
    expect(rules).toContain("+script|flush");
  });

  it("prints the URL's user with the password as its SHA-256, or a placeholder", () => {
    const hashed = printableGatewayAcl("redis://gw:s3cret@10.0.0.5:6380/4", DEFAULTS);
    expect(hashed.username).toBe("gw");
    expect(hashed.line).toMatch(/^ACL SETUSER gw reset on #[0-9a-f]{64} ~edgebus:\* /);
    expect(hashed.line).not.toContain("s3cret");
    expect(hashed.line.endsWith(" +select|4")).toBe(true);
    for (const url of ["redis://127.0.0.1:6379", "redis://default:pw@127.0.0.1:6379"]) {
      const placeholder = printableGatewayAcl(url, DEFAULTS);
      expect(placeholder.line).toMatch(/^ACL SETUSER edgebus-gateway reset on ><password> /);
      expect(placeholder.line).not.toContain("pw");
    }
  });

  it("reads and writes user, password and database of a Redis URL", () => {
    expect(redisUrlParts("redis://a%40b:p%3Aw@h:1/7")).toEqual({ username: "a@b", password: "p:w", db: 7 });
    expect(redisUrlParts("redis://h:6379")).toEqual({ username: undefined, password: undefined, db: 0 });
    expect(() => redisUrlParts("redis://h:6379/x")).toThrow(/database number/);
    expect(redisUrlParts(redisUrlAs("redis://h:6379/3", "u@x", "p w"))).toEqual({
      username: "u@x",
      password: "p w",
      db: 3,
    });
  });

  it("is documented word for word in docs/security.md (the default configuration's line)", () => {
    const docs = readFileSync(new URL("../../docs/security.md", import.meta.url), "utf8");
    const { line } = printableGatewayAcl("redis://127.0.0.1:6379", DEFAULTS);
    expect(docs, "docs/security.md: paste the output of npm run --silent bridge -- --print-redis-acl").toContain(
      `\n  ${line}\n`,
    );
  });
});
