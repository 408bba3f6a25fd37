import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../schemas/index.ts";
import { checkApiKeys, failures, legacyScopePatternMatches, renderKeysCheck } from "./keys-check.ts";

const TYPES = governmentCatalogue.types();
const hash = "0".repeat(64);

describe("keys check: patterns whose meaning changed with segment globs", () => {
  it("the old rule: * matched any run, across / and .", () => {
    expect(legacyScopePatternMatches("/services/permits*", "/services/permits/eu/1")).toBe(true);
    expect(legacyScopePatternMatches("gov.permits.*", "gov.permits.application.submitted")).toBe(true);
    expect(legacyScopePatternMatches("gov.permits.*", "gov.revenue.payment.completed")).toBe(false);
    expect(legacyScopePatternMatches("a*b*c", "a-c-b-c")).toBe(true);
    expect(legacyScopePatternMatches("a*b*c", "a-c-b")).toBe(false);
  });

  it("lists each changed pattern with what it admitted before and the closest pattern now", () => {
    const check = checkApiKeys(
      [
        { id: "permits-service", hash, sources: ["/services/permits*"], types: ["gov.permits.*"] },
        { id: "everything", hash, sources: ["*"], types: ["*"] },
        { id: "already-new", hash, sources: ["**", "/services/identity"], types: ["gov.auth.**"] },
      ],
      TYPES,
    );
    const byPattern = Object.fromEntries(check.findings.map((f) => [`${f.keyId} ${f.field} ${f.pattern}`, f]));
    expect(Object.keys(byPattern).sort()).toEqual([
      "everything sources *",
      "everything types *",
      "permits-service sources /services/permits*",
      "permits-service types gov.permits.*",
    ]);

    const source = byPattern["permits-service sources /services/permits*"];
    expect(source?.verdict).toBe("changed");
    expect(source?.examples).toContainEqual({ value: "/services/permitsx/y", before: true, now: false });
    expect(source?.closest).toEqual({ pattern: "/services/permits*/**", agrees: true });

    const type = byPattern["permits-service types gov.permits.*"];
    const permitsTypes = TYPES.filter((t) => t.startsWith("gov.permits."));
    expect(type?.lostTypes).toEqual(permitsTypes);
    expect(type?.gainedTypes).toEqual([]);
    expect(type?.closest).toEqual({ pattern: "gov.permits.**", agrees: true });

    expect(byPattern["everything types *"]?.lostTypes).toEqual(TYPES);
    expect(byPattern["everything sources *"]?.closest).toEqual({ pattern: "**", agrees: true });

    const report = renderKeysCheck(check);
    expect(report).toContain('key permits-service\n  sources[0] "/services/permits*" changed meaning:');
    expect(report).toContain("/services/permitsx/y  admitted before, refused now");
    expect(report).toContain('closest pattern now: "gov.permits.**" (answers as before on every value tried)');
    expect(report).not.toContain("already-new");
    expect(report.split("\n").at(-1)).toBe(
      "2 of 3 key(s) have patterns that are invalid or changed meaning; fix them in EDGEBUS_API_KEYS before deploying",
    );
  });

  it("notes, without failing, a ** pattern that now also admits the path itself", () => {
    const check = checkApiKeys([{ id: "revenue", hash, sources: ["/services/revenue/**"] }], TYPES);
    expect(check.findings).toEqual([
      expect.objectContaining({
        verdict: "widened",
        examples: [{ value: "/services/revenue", before: false, now: true }],
      }),
    ]);
    expect(failures(check)).toEqual([]);
    expect(renderKeysCheck(check)).toContain(
      '  sources[0] "/services/revenue/**" now also admits (note):\n      /services/revenue  refused before, admitted now',
    );
  });

  it("reports patterns the producer would refuse", () => {
    const check = checkApiKeys(
      [{ id: "broken", hash, sources: ["/services/a**", "/services/../x"], types: ["gov..x", 7] }],
      TYPES,
    );
    expect(check.findings.map((f) => [f.pattern, f.verdict, f.problem])).toEqual([
      ["/services/a**", "invalid", expect.stringMatching(/whole segment/)],
      ["/services/../x", "invalid", expect.stringMatching(/'\.\.'/)],
      ["gov..x", "invalid", expect.stringMatching(/empty segment/)],
      ["7", "invalid", "is not a string"],
    ]);
  });

  it("npx tsx scripts/api-key.ts check: reads the array from stdin, exit 1 with findings, 0 without", () => {
    const script = fileURLToPath(new URL("./api-key.ts", import.meta.url));
    const run = (input: unknown) =>
      spawnSync(process.execPath, ["--import", "tsx", script, "check"], {
        input: JSON.stringify(input),
        encoding: "utf8",
      });
    const changed = run([{ id: "old", hash, sources: ["/services/permits*"], types: ["gov.permits.**"] }]);
    expect(changed.status, changed.stderr).toBe(1);
    expect(changed.stdout).toContain('sources[0] "/services/permits*" changed meaning');
    const clean = run([{ id: "new", hash, sources: ["/services/permits/**"], types: ["gov.permits.**"] }]);
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toContain("1 key(s) checked: no pattern is invalid or changed meaning");
  });
});
