import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { CommandPolicy } from "./command-policy.ts";
import { RedisUserGuard } from "./user-guard.ts";

/** ioredis's ReplyError as far as the guard looks at it. */
function replyError(message: string): Error {
  const error = new Error(message);
  error.name = "ReplyError";
  return error;
}

/** A connection whose answers to the probes the test chooses; counts the calls. */
function fakeRedis(answer: (command: string) => unknown): Redis & { calls: string[] } {
  const emitter = new EventEmitter() as EventEmitter & {
    calls: string[];
    call: (...args: string[]) => Promise<unknown>;
  };
  emitter.calls = [];
  emitter.call = async (...args: string[]) => {
    const command = args.join(" ").toLowerCase();
    emitter.calls.push(command);
    const result = await answer(command);
    if (result instanceof Error) throw result;
    return result;
  };
  return emitter as unknown as Redis & { calls: string[] };
}

const noperm = (command: string) => replyError(`NOPERM this user has no permissions to run the '${command}' command`);
const guard = (redis: Redis, allowUnrestrictedUser = false) =>
  new RedisUserGuard(redis, { policy: new CommandPolicy(), allowUnrestrictedUser });

describe("RedisUserGuard", () => {
  it("serves when every probe is refused with NOPERM (or the command was renamed away)", async () => {
    const redis = fakeRedis((command) =>
      command.startsWith("config")
        ? replyError("ERR unknown command 'config', with args beginning with: ")
        : noperm(command),
    );
    await expect(guard(redis).assertServable()).resolves.toBeUndefined();
    expect(redis.calls).toEqual(["config get busy-reply-threshold", "acl whoami", "function stats"]);
  });

  it("refuses with 503 when one probe runs, naming it, and probes once per connection", async () => {
    const redis = fakeRedis((command) => (command === "acl whoami" ? "default" : noperm(command)));
    const checked = guard(redis);
    await expect(checked.assertServable()).rejects.toMatchObject({
      code: "upstream_unavailable",
      message: expect.stringContaining("(ACL WHOAMI ran)"),
    });
    await expect(checked.assertServable()).rejects.toMatchObject({ code: "upstream_unavailable" });
    expect(redis.calls.filter((c) => c === "acl whoami")).toHaveLength(1);
    await expect(checked.verifyAtStartup(1000)).rejects.toThrow(/not restricted to the allow list/);
    // A new connection (after "close") is probed again.
    redis.emit("close");
    await checked.assertServable().catch(() => undefined);
    expect(redis.calls.filter((c) => c === "acl whoami")).toHaveLength(2);
  });

  it("serves an unrestricted user when allowUnrestrictedUser is set", async () => {
    const redis = fakeRedis(() => "OK");
    await expect(guard(redis, true).assertServable()).resolves.toBeUndefined();
    await expect(guard(redis, true).verifyAtStartup(1000)).resolves.toBeUndefined();
  });

  it("takes BUSY or a transport failure for no answer yet: 503 now, a new probe on the next call", async () => {
    let busy = true;
    const redis = fakeRedis((command) =>
      busy
        ? replyError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
        : noperm(command),
    );
    const checked = guard(redis);
    await expect(checked.assertServable()).rejects.toMatchObject({
      code: "upstream_unavailable",
      message: expect.stringMatching(/unavailable: BUSY/),
    });
    busy = false;
    await expect(checked.assertServable()).resolves.toBeUndefined();
    // At startup, no answer is not a refusal: the bridge starts and checks per request.
    const down = fakeRedis(() => new Error("connect ECONNREFUSED"));
    await expect(guard(down).verifyAtStartup(1000)).resolves.toBeUndefined();
  });

  it("takes a probe Redis never answers for no answer yet once its deadline passes", async () => {
    let silent = true;
    const redis = fakeRedis((command) => (silent ? new Promise(() => undefined) : noperm(command)));
    const checked = new RedisUserGuard(redis, {
      policy: new CommandPolicy(),
      allowUnrestrictedUser: false,
      probeTimeoutMs: 50,
    });
    await expect(checked.assertServable()).rejects.toMatchObject({
      code: "upstream_unavailable",
      message: "ERR redis is unavailable: Command timed out",
    });
    silent = false;
    await expect(checked.assertServable()).resolves.toBeUndefined();
  });

  it("does not probe with a command the configuration serves", async () => {
    const redis = fakeRedis((command) => noperm(command));
    const wide = new RedisUserGuard(redis, {
      policy: new CommandPolicy({ allowCommands: ["function"] }),
      allowUnrestrictedUser: false,
    });
    await wide.assertServable();
    expect(redis.calls).toEqual(["config get busy-reply-threshold", "acl whoami"]);
  });
});
