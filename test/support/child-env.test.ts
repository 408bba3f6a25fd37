import { afterEach, describe, expect, it, vi } from "vitest";
import { scrubbedEnv } from "./child-env.ts";

afterEach(() => vi.unstubAllEnvs());

describe("scrubbedEnv", () => {
  it("drops a developer's server and credential settings and keeps the rest", () => {
    for (const name of [
      "BRIDGE_PORT",
      "BRIDGE_KAFKA_REST_PASSWORD",
      "UPSTASH_REDIS_REST_URL",
      "DATABASE_URL",
      "REDIS_URL",
      "KAFKA_BROKERS",
      "EDGEBUS_DEV_API_KEY",
    ])
      vi.stubEnv(name, "developer's");
    vi.stubEnv("EDGEBUS_KAFKA_STATE", "/kept");
    const env = scrubbedEnv();
    expect(Object.values(env)).not.toContain("developer's");
    expect(env.EDGEBUS_KAFKA_STATE).toBe("/kept");
    expect(env.PATH).toBe(process.env.PATH);
  });

  it("sets what the test passes, and leaves out an override of undefined", () => {
    vi.stubEnv("REDIS_URL", "redis://developer:6379");
    expect(scrubbedEnv({ REDIS_URL: "redis://test:6379", KAFKA_BROKERS: undefined })).toMatchObject({
      REDIS_URL: "redis://test:6379",
    });
    expect(scrubbedEnv({ KAFKA_BROKERS: undefined })).not.toHaveProperty("KAFKA_BROKERS");
  });
});
