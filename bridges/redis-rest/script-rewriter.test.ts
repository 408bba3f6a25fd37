import { describe, expect, it } from "vitest";
import { rewriteScript, ScriptShaMap, scriptSha } from "./script-rewriter.ts";

describe("rewriteScript", () => {
  it("drops allow-key-locking and keeps the rest of the script byte for byte", () => {
    const body = "local key = KEYS[1]\nreturn redis.call('GET', key)\n";
    expect(rewriteScript(`#!lua flags=allow-key-locking\n${body}`)).toBe(`#!lua\n${body}`);
  });

  it("keeps other flags and Windows line endings", () => {
    expect(rewriteScript("#!lua flags=no-writes,allow-key-locking\r\nreturn 1")).toBe(
      "#!lua flags=no-writes\r\nreturn 1",
    );
    expect(rewriteScript("#!lua flags=allow-key-locking,allow-oom name=x\nreturn 1")).toBe(
      "#!lua flags=allow-oom name=x\nreturn 1",
    );
  });

  it("leaves scripts without the flag or without a shebang alone", () => {
    expect(rewriteScript("return 1")).toBeNull();
    expect(rewriteScript("#!lua flags=no-writes\nreturn 1")).toBeNull();
    expect(rewriteScript("-- #!lua flags=allow-key-locking\nreturn 1")).toBeNull();
  });
});

describe("ScriptShaMap", () => {
  it("maps the client's SHA-1 of the original to the SHA-1 of the rewritten text", () => {
    const map = new ScriptShaMap();
    const original = "#!lua flags=allow-key-locking\nreturn 1";
    const rewritten = rewriteScript(original) ?? "";
    expect(map.remember(original, rewritten)).toBe(scriptSha(rewritten));
    expect(map.resolve(scriptSha(original))).toBe(scriptSha(rewritten));
    expect(map.resolve(scriptSha(original).toUpperCase())).toBe(scriptSha(rewritten));
    expect(map.resolve("f".repeat(40))).toBe("f".repeat(40));
  });

  it("computes SHA-1 over UTF-8 bytes like Redis", () => {
    // sha1("return 'é'") as printed by `redis-cli SCRIPT LOAD "return 'é'"`.
    expect(scriptSha("return 'é'")).toBe("6832e39b721242dbb406e4bf358bfebb712064d7");
  });

  it("forgets the least recently used entry beyond its capacity", () => {
    const map = new ScriptShaMap(2);
    map.remember("a", "A");
    map.remember("b", "B");
    map.resolve(scriptSha("a"));
    map.remember("c", "C");
    expect(map.size).toBe(2);
    expect(map.resolve(scriptSha("a"))).toBe(scriptSha("A"));
    expect(map.resolve(scriptSha("b"))).toBe(scriptSha("b"));
  });
});
