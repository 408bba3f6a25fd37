import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { duplicateWithTimeout, GATEWAY_COMMAND_TIMEOUT_MS, withCommandDeadline } from "./command-deadline.ts";
import { connectGatewayRedis } from "./serve.ts";

describe("withCommandDeadline", () => {
  it("gives the work's answer when it comes in time", async () => {
    await expect(withCommandDeadline(Promise.resolve("OK"), 50)).resolves.toBe("OK");
    await expect(withCommandDeadline(Promise.reject(new Error("WRONGTYPE")), 50)).rejects.toThrow("WRONGTYPE");
  });

  it("rejects with ioredis's timeout text once the deadline passes", async () => {
    const started = performance.now();
    await expect(withCommandDeadline(new Promise(() => undefined), 30)).rejects.toThrow("Command timed out");
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });
});

describe("the gateway's connections", () => {
  it("runs its own connection without ioredis's per-command timer and gives duplicates one", () => {
    const gateway = connectGatewayRedis("redis://127.0.0.1:1/0");
    gateway.disconnect();
    expect(gateway.options.commandTimeout).toBeUndefined();
    const duplicate = duplicateWithTimeout(gateway);
    duplicate.disconnect();
    expect(duplicate.options.commandTimeout).toBe(GATEWAY_COMMAND_TIMEOUT_MS);
    const own = new Redis({ lazyConnect: true, commandTimeout: 1234 });
    expect(duplicateWithTimeout(own).options.commandTimeout).toBe(1234);
  });
});
