// A Vitest reporter that writes, per test file, the errors that belong to no test: a failed
// beforeAll/afterAll hook, a module that threw on import. Vitest's JSON report leaves those out
// (the file is "failed" with an empty message and its tests "skipped"), so `npm test` reads this
// file to print the reason in its summary. Output: EDGEBUS_HOOK_ERRORS_FILE (JSON object
// mapping the absolute file path to a list of "Name: message" strings).
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const describe = (error) => {
  const first = `${error.name ?? "Error"}: ${error.message ?? String(error)}`;
  return first.length > 2000 ? `${first.slice(0, 2000)}…` : first;
};

export default class HookErrorsReporter {
  onTestRunEnd(testModules) {
    const target = process.env.EDGEBUS_HOOK_ERRORS_FILE;
    if (!target) return;
    const byFile = {};
    for (const testModule of testModules) {
      const errors = [...testModule.errors()];
      for (const suite of testModule.children.allSuites()) errors.push(...suite.errors());
      if (errors.length > 0) byFile[testModule.moduleId] = errors.map(describe);
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, `${JSON.stringify(byFile, null, 2)}\n`);
  }
}
