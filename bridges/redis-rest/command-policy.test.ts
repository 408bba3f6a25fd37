import { describe, expect, it } from "vitest";
import { parseBridgeConfig } from "../config.ts";
import { CommandPolicy } from "./command-policy.ts";

describe("CommandPolicy", () => {
  const policy = new CommandPolicy();

  it("serves the allow list in any letter case, and SCRIPT only with LOAD, EXISTS and KILL", () => {
    expect(() => policy.assertAllowed(["GeT", "k"])).not.toThrow();
    expect(() => policy.assertAllowed(["EVALSHA", "0".repeat(40), "0"])).not.toThrow();
    for (const sub of ["load", "EXISTS", "Kill"]) expect(() => policy.assertAllowed(["script", sub])).not.toThrow();
    expect(() => policy.assertAllowed(["script", "flush"])).toThrow(/'script\|flush'/);
    expect(() => policy.assertAllowed(["script"])).toThrow(/refused by the REST gateway/);
  });

  it("refuses everything else with NOPERM, naming the command", () => {
    for (const command of [["KEYS", "*"], ["FlushAll"], ["function", "list"], ["copy", "a", "b"], ["info"]] as const) {
      expect(() => policy.assertAllowed(command)).toThrow(/^NOPERM this user has no permissions to run the '/);
    }
    expect(() => policy.assertAllowed(["xread", "COUNT", "1", "Block", "0", "STREAMS", "s", "$"])).toThrow(
      /'xread\|block'/,
    );
  });

  it("adds configured commands, but never blocking, subscribing or connection-state ones", () => {
    const wide = new CommandPolicy({ allowCommands: ["keys", "script|flush"] });
    expect(() => wide.assertAllowed(["keys", "*"])).not.toThrow();
    expect(() => wide.assertAllowed(["script", "FLUSH"])).not.toThrow();
    expect(() => wide.assertAllowed(["flushall"])).toThrow(/NOPERM/);
    expect(() => new CommandPolicy({ allowCommands: ["blpop"] })).toThrow(/cannot be served over REST/);
  });

  it("is configured through redisRest in the bridge config, with documented defaults", () => {
    const config = parseBridgeConfig({ kafkaRest: { enabled: false }, redisRest: { token: "t".repeat(16) } });
    expect(config.redisRest).toMatchObject({
      keyPatterns: ["edgebus:*"],
      allowCommands: [],
      allowUnrestrictedUser: false,
      maxTransactionConnections: 16,
    });
    expect(() =>
      parseBridgeConfig({
        kafkaRest: { enabled: false },
        redisRest: { token: "t".repeat(16), allowCommands: ["select"] },
      }),
    ).toThrow(/allowCommands/);
    expect(() =>
      parseBridgeConfig({ kafkaRest: { enabled: false }, redisRest: { token: "t".repeat(16), keyPatterns: ["a b"] } }),
    ).toThrow(/keyPatterns/);
  });
});
