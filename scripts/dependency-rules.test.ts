/**
 * The dependency boundaries in .dependency-cruiser.cjs (checked by `npm run lint`) really bite.
 *
 * Probe files with deliberately wrong imports are written into the real tree (the rules match on
 * repository paths, so they have to live there), depcruise runs on just those files with the
 * project's config, and every rule must be reported for the probe that breaks it — and for no probe
 * whose imports are allowed. The probes import only other probe files, so the test does not depend on
 * which real modules exist today; they are removed in `finally`, whatever happens.
 *
 * The last test cruises the whole tree, as `npm run lint` does, and expects no violation.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const depcruiseBin = join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruiser.mjs");
const CONFIG = ".dependency-cruiser.cjs";
/** Where depcruise resolves a bare import of fast-check (a devDependency): a file under this folder. */
const DEV_PACKAGE_FOLDER = "node_modules/fast-check/";

interface Violation {
  rule: { name: string; severity: string };
  from: string;
  to: string;
}

/** Runs the depcruise CLI (the same one `npm run lint` runs) with the project's config; returns the violations. */
async function depcruise(targets: string[]): Promise<Violation[]> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(
      process.execPath,
      [depcruiseBin, "--config", CONFIG, "--output-type", "json", ...targets],
      { cwd: root, maxBuffer: 256 * 1024 * 1024 },
    ));
  } catch (error) {
    // depcruise exits non-zero when there are errors; the JSON report is still on stdout.
    const out = (error as { stdout?: string }).stdout;
    if (!out) throw error;
    stdout = out;
  }
  const result = JSON.parse(stdout) as { summary: { violations: Violation[] } };
  return result.summary.violations;
}

const describeViolations = (violations: Violation[]) =>
  violations.map((v) => `${v.rule.severity} ${v.rule.name}: ${v.from} → ${v.to}`).join("\n");

/**
 * A probe: a file at `path` (repository-relative) that imports each of `imports`: a repository path,
 * a `#shared/…` alias, `npm:<package>` (a package, for its side effects) or `type:<package>` (a
 * type-only import of a package).
 */
interface Probe {
  path: string;
  imports: string[];
}

/** The import specifier from one repository file to another, as a relative path with its extension. */
function specifier(from: string, to: string): string {
  const rel = relative(dirname(from), to).split("\\").join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** What a `type:<package>` probe import names (any exported type of the packages used below). */
const TYPE_ONLY_NAME = "Arbitrary";

async function writeProbes(probes: Probe[]): Promise<string[]> {
  const written: string[] = [];
  for (const probe of probes) {
    const file = join(root, probe.path);
    await mkdir(dirname(file), { recursive: true });
    const body = probe.imports.map((target) => {
      if (target.startsWith("#")) return `import "${target}";`;
      if (target.startsWith("npm:")) return `import "${target.slice("npm:".length)}";`;
      if (target.startsWith("type:"))
        return `import type { ${TYPE_ONLY_NAME} } from "${target.slice("type:".length)}";`;
      return `import "${specifier(probe.path, target)}";`;
    });
    written.push(file);
    await writeFile(file, `${body.join("\n")}\nexport const probe = true;\n`);
  }
  return written;
}

describe("dependency rules (.dependency-cruiser.cjs)", () => {
  it("reports every rule for a probe that breaks it, and nothing for allowed imports", {
    timeout: 60_000,
  }, async () => {
    const id = `__boundary-probe-${randomBytes(4).toString("hex")}`;
    // Targets: empty modules in each area, so the probes depend on no real file.
    const t = {
      bridge: `bridges/${id}-target.ts`,
      kafkaRest: `bridges/kafka-rest/${id}-target.ts`,
      script: `scripts/${id}-target.ts`,
      testSupport: `test/support/${id}-target.ts`,
      testFixture: `test/fixtures/${id}-target.ts`,
      testSuite: `test/e2e/${id}-target.ts`,
      bench: `bench/${id}-target.ts`,
      shared: `shared/src/${id}-target.ts`,
      producer: `workers/producer/src/${id}-target.ts`,
      archive: `workers/archive/src/${id}-target.ts`,
      ops: `ops/${id}-target.ts`,
    };
    const targets: Probe[] = Object.values(t).map((path) => ({ path, imports: [] }));

    // Each rule name → the probe that must trigger it and the target it must be reported against.
    const bad: Record<string, { probe: Probe; to: string }> = {
      "worker-src-no-runtime-outside": {
        probe: { path: `workers/producer/src/${id}-runtime.ts`, imports: [t.bridge, t.script, t.testSupport] },
        to: t.bridge,
      },
      "worker-no-other-worker": {
        probe: { path: `workers/producer/src/${id}-other-worker.ts`, imports: [t.archive] },
        to: t.archive,
      },
      "worker-test-only-test-helpers": {
        probe: { path: `workers/archive/src/${id}-suite.test.ts`, imports: [t.testSuite] },
        to: t.testSuite,
      },
      "shared-no-runtime": {
        probe: {
          path: `shared/src/${id}-runtime.ts`,
          imports: [t.producer, t.bridge, t.script, t.testSupport, t.bench],
        },
        to: t.producer,
      },
      "shared-test-no-runtime": {
        probe: { path: `shared/src/${id}-runtime.test.ts`, imports: [t.producer, t.testSuite] },
        to: t.producer,
      },
      "no-relative-import-into-shared": {
        probe: { path: `bridges/${id}-relative-shared.ts`, imports: [t.shared] },
        to: t.shared,
      },
      "bridge-kafka-no-kafka-rest": {
        probe: { path: `bridges/kafka/${id}-upper.ts`, imports: [t.kafkaRest] },
        to: t.kafkaRest,
      },
      "bridge-no-workers-or-tests": {
        probe: { path: `bridges/${id}-runtime.ts`, imports: [t.producer, t.testSupport] },
        to: t.producer,
      },
      "ops-no-runtime": {
        probe: { path: `ops/${id}-runtime.ts`, imports: [t.producer, t.bridge, t.script, t.testSupport, t.bench] },
        to: t.script,
      },
      "node-production-no-dev-dependencies": {
        probe: { path: `bridges/${id}-dev-dependency.ts`, imports: ["npm:fast-check"] },
        to: DEV_PACKAGE_FOLDER,
      },
      "scripts-no-test": {
        probe: { path: `scripts/${id}-test.ts`, imports: [t.testSupport] },
        to: t.testSupport,
      },
      "no-circular": {
        probe: { path: `scripts/${id}-cycle-a.ts`, imports: [`scripts/${id}-cycle-b.ts`] },
        to: `scripts/${id}-cycle-b.ts`,
      },
      "not-to-unresolvable": {
        probe: { path: `bench/${id}-missing.ts`, imports: [`bench/${id}-does-not-exist.ts`] },
        to: `./${id}-does-not-exist.ts`,
      },
    };
    const cycleBack: Probe = { path: `scripts/${id}-cycle-b.ts`, imports: [`scripts/${id}-cycle-a.ts`] };
    // Further probes for rules whose scope has more than one part (checked like `bad`).
    const alsoBad: { rule: string; probe: Probe; to: string }[] = [
      {
        rule: "node-production-no-dev-dependencies",
        probe: { path: `scripts/cli/${id}-dev-dependency.ts`, imports: ["npm:fast-check"] },
        to: DEV_PACKAGE_FOLDER,
      },
    ];

    // Imports the rules allow: none of these may be reported.
    const allowed: Probe[] = [
      { path: `workers/producer/src/${id}-ok.ts`, imports: [t.producer, `#shared/${id}-target.ts`] },
      {
        path: `workers/producer/src/${id}-ok.test.ts`,
        imports: [t.producer, t.script, t.testSupport, t.testFixture, t.archive, t.bridge],
      },
      { path: `scripts/${id}-ok.test.ts`, imports: [t.script, t.testSupport, t.testFixture] },
      { path: `scripts/${id}-ops-ok.ts`, imports: [t.ops] },
      { path: `ops/${id}-ok.ts`, imports: [t.ops, `#shared/${id}-target.ts`] },
      { path: `shared/src/${id}-ok.ts`, imports: [t.shared] },
      { path: `shared/src/${id}-ok.test.ts`, imports: [t.shared, t.testSupport, t.testFixture] },
      { path: `bridges/kafka-rest/${id}-ok.ts`, imports: [t.bridge, `#shared/${id}-target.ts`] },
      // A production dependency, and a devDependency's types (erased: nothing is loaded at run time).
      { path: `bridges/${id}-packages-ok.ts`, imports: ["npm:yaml", "type:fast-check"] },
      { path: `bridges/${id}-dev-ok.test.ts`, imports: ["npm:fast-check"] },
      { path: `ops/${id}-dev-ok.ts`, imports: ["npm:fast-check"] },
      { path: `scripts/${id}-dev-ok.ts`, imports: ["npm:fast-check"] },
      { path: `test/e2e/${id}-ok.test.ts`, imports: [t.producer, t.bridge, t.script, `#shared/${id}-target.ts`] },
    ];

    const probes = [...Object.values(bad).map((b) => b.probe), ...alsoBad.map((b) => b.probe), cycleBack, ...allowed];
    const files: string[] = [];
    try {
      files.push(...(await writeProbes(targets)), ...(await writeProbes(probes)));
      const violations = await depcruise(probes.map((p) => p.path));

      for (const { rule, probe, to } of [
        ...Object.entries(bad).map(([rule, { probe, to }]) => ({ rule, probe, to })),
        ...alsoBad,
      ]) {
        // A target ending in "/" is a package's folder: depcruise reports the file it resolved to.
        const reached = (v: Violation) => (to.endsWith("/") ? v.to.startsWith(to) : v.to === to);
        const hit = violations.find((v) => v.rule.name === rule && v.from === probe.path && reached(v));
        expect(
          hit,
          `${rule}: ${probe.path} → ${to} not reported; got:\n${describeViolations(violations)}`,
        ).toBeDefined();
        expect(hit?.rule.severity).toBe("error");
      }
      const allowedPaths = new Set(allowed.map((p) => p.path));
      expect(describeViolations(violations.filter((v) => allowedPaths.has(v.from)))).toBe("");
      // Every rule in the config is exercised by a probe.
      const { default: config } = (await import(join(root, CONFIG))) as { default: { forbidden: { name: string }[] } };
      expect(config.forbidden.map((r) => r.name).sort()).toEqual(Object.keys(bad).sort());
    } finally {
      await Promise.all(files.map((file) => rm(file, { force: true })));
    }
  });

  it("the whole tree has no violations (what `npm run lint` checks)", { timeout: 60_000 }, async () => {
    const violations = await depcruise(["."]);
    expect(describeViolations(violations)).toBe("");
  });
});
