import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BRIDGE_NODE_OPTIONS, missingBridgeNodeOptions } from "./v8-tuning.ts";

describe("the bridge's Node options", () => {
  it("are passed by npm run bridge, the way operators start the bridge", () => {
    const { scripts } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      scripts: Record<string, string>;
    };
    const words = scripts.bridge?.split(/\s+/) ?? [];
    expect(words.indexOf("bridges/main.ts")).toBeGreaterThan(0);
    for (const option of BRIDGE_NODE_OPTIONS) {
      // Before the script: after it, node would hand the option to main.ts as an argument.
      expect(words.indexOf(option), scripts.bridge).toBeGreaterThan(-1);
      expect(words.indexOf(option)).toBeLessThan(words.indexOf("bridges/main.ts"));
    }
  });

  it("name settings this Node's V8 has (a renamed flag would be ignored without a word)", () => {
    const known = execFileSync(process.execPath, ["--v8-options"], { encoding: "utf8" });
    for (const option of BRIDGE_NODE_OPTIONS) {
      const name = option.replace(/^--(no-)?/, "").replace(/=.*$/, "");
      expect(known).toMatch(new RegExp(`^\\s+--${name} `, "m"));
    }
  });

  it("are reported missing when a process was started without them", () => {
    expect(missingBridgeNodeOptions(["--no-memory-reducer", "--initial-old-space-size=32"])).toEqual([]);
    expect(missingBridgeNodeOptions(["--import", "tsx", ...BRIDGE_NODE_OPTIONS])).toEqual([]);
    expect(missingBridgeNodeOptions([])).toEqual(["--no-memory-reducer", "--initial-old-space-size=32"]);
    expect(missingBridgeNodeOptions(["--memory-reducer", "--initial-old-space-size=64"])).toEqual([
      "--no-memory-reducer",
      "--initial-old-space-size=32",
    ]);
  });
});
