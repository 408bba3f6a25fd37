import { describe, expect, it } from "vitest";
import { apiKeysSchema } from "../workers/producer/src/auth/api-key-config.ts";
import { assertMayPublish, authenticate } from "../workers/producer/src/auth/authenticate.ts";
import { mintApiKey } from "./api-key.ts";

describe("scripts/api-key.ts", () => {
  it("mints a key whose entry authenticates it and only it", async () => {
    const { key, entry } = await mintApiKey({
      id: "permits-service",
      sources: ["/services/permits/**"],
      types: ["gov.permits.**"],
      admin: false,
      rate: "500/60",
    });
    expect(key).toMatch(/^ebk_[A-Za-z0-9_-]{43}$/);
    expect(entry).toMatchObject({ id: "permits-service", rate_limit: { requests: 500, window_seconds: 60 } });
    expect(JSON.stringify(entry)).not.toContain(key);
    const keys = apiKeysSchema.parse([entry]);
    await expect(authenticate(`Bearer ${key}`, keys)).resolves.toMatchObject({ id: "permits-service" });
    await expect(authenticate(`Bearer ${key}x`, keys)).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("grants notify:direct-contact only when asked, and refuses an unknown scope", async () => {
    const plain = await mintApiKey({ id: "permits-service", sources: [], types: [], admin: false });
    expect(plain.entry.scopes).toEqual([]);
    const identity = await mintApiKey({
      id: "identity-service",
      sources: [],
      types: [],
      admin: false,
      scopes: ["notify:direct-contact"],
    });
    expect(identity.entry.scopes).toEqual(["notify:direct-contact"]);
    await expect(
      mintApiKey({ id: "x", sources: [], types: [], admin: false, scopes: ["notify:all"] }),
    ).rejects.toThrow();
  });

  it("--metrics mints a scraper's key: the metrics scope, nothing to publish", async () => {
    const { key, entry } = await mintApiKey({
      id: "prometheus",
      sources: [],
      types: [],
      admin: false,
      metricsOnly: true,
    });
    expect(entry).toMatchObject({ id: "prometheus", sources: [], types: [], admin: false, scopes: ["metrics"] });
    const keys = apiKeysSchema.parse([entry]);
    const principal = await authenticate(`Bearer ${key}`, keys);
    expect(() =>
      assertMayPublish(principal, { source: "/services/identity", type: "gov.auth.citizen.created" }),
    ).toThrow(/may not publish/);
    await expect(
      mintApiKey({ id: "prometheus", sources: ["**"], types: [], admin: false, metricsOnly: true }),
    ).rejects.toThrow(/--metrics/);
    // The scope alone may also be added to a key that publishes.
    const both = await mintApiKey({ id: "svc", sources: [], types: [], admin: false, scopes: ["metrics"] });
    expect(both.entry).toMatchObject({ sources: ["**"], types: ["**"], scopes: ["metrics"] });
  });

  it("defaults to all sources and types and rejects a malformed rate", async () => {
    const { entry } = await mintApiKey({ id: "dev", sources: [], types: [], admin: true });
    expect(entry).toMatchObject({ sources: ["**"], types: ["**"], admin: true });
    await expect(mintApiKey({ id: "dev", sources: [], types: [], admin: false, rate: "fast" })).rejects.toThrow(
      /--rate/,
    );
  });
});
