import { describe, expect, it } from "vitest";
import { parseBridgeConfig } from "../config.ts";

/** Kafka REST off, so only the redisRest section needs settings. */
const base = { kafkaRest: { enabled: false } };
const full = "full-token-0000000001";
const previous = "full-token-0000000000";
const readOnly = "read-only-token-000001";

describe("the redisRest section's tokens and subscriptions", () => {
  it("takes one token or a list, and the environment adds the previous ones while rotating", () => {
    expect(parseBridgeConfig(base, { BRIDGE_REDIS_REST_TOKEN: full }).redisRest.token).toEqual([full]);
    const rotating = parseBridgeConfig(base, {
      BRIDGE_REDIS_REST_TOKEN: full,
      BRIDGE_REDIS_REST_TOKEN_PREVIOUS: previous,
      BRIDGE_REDIS_REST_READONLY_TOKEN: readOnly,
      BRIDGE_REDIS_REST_READONLY_TOKEN_PREVIOUS: "read-only-token-000000",
    }).redisRest;
    expect(rotating.token).toEqual([full, previous]);
    expect(rotating.readOnlyToken).toEqual([readOnly, "read-only-token-000000"]);
    expect(parseBridgeConfig({ ...base, redisRest: { token: [full, previous] } }, {}).redisRest.token).toEqual([
      full,
      previous,
    ]);
  });

  it("has Upstash's defaults: _token accepted, subscriptions on and bounded", () => {
    const section = parseBridgeConfig(base, { BRIDGE_REDIS_REST_TOKEN: full }).redisRest;
    expect(section.readOnlyToken).toBeUndefined();
    expect(section.allowQueryToken).toBe(true);
    expect(section.subscriptions).toEqual({
      enabled: true,
      maxStreams: 256,
      maxChannelsPerStream: 16,
      maxBufferedBytes: 1_048_576,
      heartbeatSeconds: 15,
    });
  });

  it("refuses a read-only token equal to a full one, and short tokens", () => {
    expect(() =>
      parseBridgeConfig(base, { BRIDGE_REDIS_REST_TOKEN: full, BRIDGE_REDIS_REST_READONLY_TOKEN: full }),
    ).toThrow(/must differ from every full token[\s\S]*redisRest\.readOnlyToken/);
    expect(() =>
      parseBridgeConfig(base, { BRIDGE_REDIS_REST_TOKEN: full, BRIDGE_REDIS_REST_READONLY_TOKEN: "short" }),
    ).toThrow(/at least 16 characters/);
    expect(() => parseBridgeConfig({ ...base, redisRest: { token: [] } }, {})).toThrow(/at least one token/);
  });
});
