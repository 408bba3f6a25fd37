import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { apiKeysSchema, parseApiKeys } from "./api-key-config.ts";
import { assertAdmin, assertMayPublish, authenticate } from "./authenticate.ts";
import { generateApiKey, hashApiKey } from "./key-hash.ts";

describe("authenticate", async () => {
  const key = generateApiKey();
  const keys = apiKeysSchema.parse([
    { id: "permits", hash: await hashApiKey(key), sources: ["/services/permits/**"], types: ["gov.permits.**"] },
  ]);

  it("finds the key by its hash", async () => {
    await expect(authenticate(`Bearer ${key}`, keys)).resolves.toMatchObject({ id: "permits", admin: false });
    await expect(authenticate(`bearer   ${key}`, keys)).resolves.toMatchObject({ id: "permits" });
  });

  it.each([null, "", "Bearer", "Basic abc", `Bearer ${key}x`, `Bearer ${key} extra`])("401 for %j", async (header) => {
    await expect(authenticate(header, keys)).rejects.toMatchObject({ code: "unauthorized", status: 401 });
  });

  it("stops accepting a key as soon as the configuration no longer holds it, though it authenticated before", async () => {
    const rotating = generateApiKey();
    const before = apiKeysSchema.parse([
      { id: "old", hash: await hashApiKey(rotating), sources: ["**"], types: ["**"] },
    ]);
    await expect(authenticate(`Bearer ${rotating}`, before)).resolves.toMatchObject({ id: "old" });
    await expect(authenticate(`Bearer ${rotating}`, keys)).rejects.toMatchObject({ code: "unauthorized" });
    // The same hash under another entry (a renamed key) is that entry.
    const renamed = apiKeysSchema.parse([
      { id: "new", hash: await hashApiKey(rotating), sources: ["**"], types: ["**"] },
    ]);
    await expect(authenticate(`Bearer ${rotating}`, renamed)).resolves.toMatchObject({ id: "new" });
  });

  it("checks source and type scopes", () => {
    const [principal] = keys;
    if (principal === undefined) throw new Error("no key");
    expect(() =>
      assertMayPublish(principal, { source: "/services/permits", type: "gov.permits.application.submitted" }),
    ).not.toThrow();
    expect(() => assertMayPublish(principal, { source: "/services/identity", type: "gov.permits.x.y" })).toThrow(
      EdgebusError,
    );
    expect(() =>
      assertMayPublish(principal, { source: "/services/permits", type: "gov.auth.citizen.created" }),
    ).toThrow(/may not publish events of type/);
    expect(() => assertAdmin(principal)).toThrow(/admin/);
    for (const source of ["/services/permits/../identity", "/services/permits//x", "/services/permits/"]) {
      expect(() => assertMayPublish(principal, { source, type: "gov.permits.application.submitted" })).toThrow(
        expect.objectContaining({ code: "invalid_envelope", status: 400 }),
      );
    }
  });
});

describe("EDGEBUS_API_KEYS", () => {
  it("is empty when unset", () => {
    expect(parseApiKeys(undefined)).toEqual([]);
  });

  it.each([
    ["not JSON", "{"],
    ["not an array", "{}"],
    ["a plaintext key instead of a hash", JSON.stringify([{ id: "a", hash: "secret" }])],
    [
      "duplicate ids",
      JSON.stringify([
        { id: "a", hash: "0".repeat(64) },
        { id: "a", hash: "1".repeat(64) },
      ]),
    ],
    ["unknown fields", JSON.stringify([{ id: "a", hash: "0".repeat(64), scopes: ["*"] }])],
    ["a '**' that is not a whole segment", JSON.stringify([{ id: "a", hash: "0".repeat(64), sources: ["/s/a**"] }])],
    ["a source pattern with '..'", JSON.stringify([{ id: "a", hash: "0".repeat(64), sources: ["/s/../x"] }])],
    ["a type pattern with an empty segment", JSON.stringify([{ id: "a", hash: "0".repeat(64), types: ["gov..x"] }])],
  ])("refuses %s, naming the secret", (_, text) => {
    expect(() => parseApiKeys(text)).toThrow(/EDGEBUS_API_KEYS/);
  });

  it("names the entry and the pattern at fault", () => {
    const text = JSON.stringify([{ id: "a", hash: "0".repeat(64), sources: ["/s/**", "/s/a**"] }]);
    expect(() => parseApiKeys(text)).toThrow(
      'EDGEBUS_API_KEYS is invalid: [0].sources[1]: source pattern "/s/a**" ** must be a whole segment',
    );
  });
});
