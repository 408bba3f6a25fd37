/**
 * Dependency boundaries, checked by `npm run lint` (depcruise) and proven by scripts/dependency-rules.test.ts.
 *
 * Paths are relative to the repository root. "Test code" means *.test.ts / *.test.mjs / *.workerd-test.ts files;
 * everything else is production code. Each rule applies to production code and tests unless its name says otherwise.
 * Worker harness files outside workers/<w>/src (vitest.config.ts, global-setup.ts) are test infrastructure and are
 * not covered by the worker rules.
 */

/** A test file anywhere. */
const TEST_FILE = "\\.(test|workerd-test)\\.(ts|mts|mjs|js)$";
/** Test helpers any test may import. */
const TEST_HELPERS = "^test/(support|fixtures)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---- Workers -------------------------------------------------------------------------------------------------
    {
      name: "worker-src-no-runtime-outside",
      comment:
        "Worker source (workers/<w>/src, non-test) must not import bridges/, scripts/ or test/: those are Node-only " +
        "runtimes and tooling that do not belong in a Worker bundle.",
      severity: "error",
      from: { path: "^workers/[^/]+/src/", pathNot: TEST_FILE },
      to: { path: "^(bridges|scripts|test)/" },
    },
    {
      name: "worker-no-other-worker",
      comment:
        "Worker source must not import another Worker's files; share code through shared/ (#shared/...). Tests may: " +
        "an admin-route test seeds rows with the real writer of the Worker that owns them.",
      severity: "error",
      from: { path: "^workers/([^/]+)/src/", pathNot: TEST_FILE },
      to: { path: "^workers/[^/]+/", pathNot: "^workers/$1/" },
    },
    {
      name: "worker-test-only-test-helpers",
      comment: "Worker tests may import test/support and test/fixtures only, not other suites under test/.",
      severity: "error",
      from: { path: `^workers/[^/]+/src/.*${TEST_FILE}` },
      to: { path: "^test/", pathNot: TEST_HELPERS },
    },
    // ---- shared/ ---------------------------------------------------------------------------------------------------
    {
      name: "shared-no-runtime",
      comment:
        "shared/ production code is runtime-neutral: it must not import workers/, bridges/, scripts/, test/ or bench/.",
      severity: "error",
      from: { path: "^shared/", pathNot: TEST_FILE },
      to: { path: "^(workers|bridges|scripts|test|bench)/" },
    },
    {
      name: "shared-test-no-runtime",
      comment:
        "shared/ tests may import test/support and test/fixtures, but no runtime (workers/, bridges/, scripts/, " +
        "bench/) and no other suite under test/.",
      severity: "error",
      from: { path: `^shared/.*${TEST_FILE}` },
      to: { path: "^(workers|bridges|scripts|bench|test)/", pathNot: TEST_HELPERS },
    },
    {
      name: "no-relative-import-into-shared",
      comment:
        "Code outside shared/ imports shared code as #shared/... (package.json imports), never through a relative " +
        "path such as ../shared/src/...",
      severity: "error",
      from: { pathNot: "^shared/" },
      // "#shared/..." imports are tagged aliased-subpath-import (and also "local"); relative ones are not.
      to: { path: "^shared/src/", dependencyTypesNot: ["aliased-subpath-import"] },
    },
    // ---- bridges/ --------------------------------------------------------------------------------------------------
    {
      name: "bridge-kafka-no-kafka-rest",
      comment: "bridges/kafka is the lower layer: it must not import bridges/kafka-rest (the layer built on it).",
      severity: "error",
      from: { path: "^bridges/kafka/" },
      to: { path: "^bridges/kafka-rest/" },
    },
    {
      name: "bridge-no-workers-or-tests",
      comment: "bridges/ production code must not import workers/ or test/.",
      severity: "error",
      from: { path: "^bridges/", pathNot: TEST_FILE },
      to: { path: "^(workers|test)/" },
    },
    // ---- scripts/ --------------------------------------------------------------------------------------------------
    {
      name: "scripts-no-test",
      comment:
        "scripts/ must not import test/: tests may import scripts/ (the local provider, the service probes), not " +
        "the reverse. scripts' own tests may use test/support and test/fixtures like any test.",
      severity: "error",
      from: { path: "^scripts/", pathNot: TEST_FILE },
      to: { path: "^test/" },
    },
    // ---- ops/ -------------------------------------------------------------------------------------------------------
    {
      name: "ops-no-runtime",
      comment:
        "ops/ (alert rules, dashboard generator) describes the system from outside, through its metric contract " +
        "(docs/metrics.md): its code must not import workers/, bridges/, scripts/, test/ or bench/. scripts/ and " +
        "tests may import ops/ (generate-artefacts writes its generated files).",
      severity: "error",
      from: { path: "^ops/", pathNot: TEST_FILE },
      to: { path: "^(workers|bridges|scripts|test|bench)/" },
    },
    // ---- what runs under Node in production ------------------------------------------------------------------------
    {
      name: "node-production-no-dev-dependencies",
      comment:
        "The bridge (bridges/, with shared/ and schemas/), the VPS consumer (ops/vps-rabbitmq/) and the operator's " +
        "tools (`npm run migrate`, `npm run edgebus`: scripts/migrate.ts, scripts/edgebus-cli.ts, scripts/cli/) " +
        "run under Node from an install without devDependencies (`npm ci --omit=dev`, docs/deployment.md): their " +
        "code may load only packages listed under dependencies. Type-only imports are erased and load nothing.",
      severity: "error",
      from: {
        path: "^(bridges|shared|schemas|ops/vps-rabbitmq|scripts/cli)/|^scripts/(migrate|edgebus-cli)\\.ts$",
        pathNot: TEST_FILE,
      },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"] },
    },
    // ---- whole tree ------------------------------------------------------------------------------------------------
    {
      name: "no-circular",
      comment: "No import cycles.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "Every import must resolve (a file that exists, a package in node_modules, or a runtime built-in).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Cruise the repository's own code only. Packages are not followed, but stay in the graph (not
    // excluded), so a rule can tell a dependency from a devDependency.
    exclude: {
      path: "(^|/)(\\.wrangler|\\.cache|\\.git)/|^schemas/generated/|^bench/results/|^coverage/",
    },
    doNotFollow: { path: "(^|/)node_modules/" },
    // Type-only imports count too: a boundary is a boundary for types as well.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // workerd's built-in modules resolve at run time in the Workers runtime, not from node_modules.
    builtInModules: { add: ["cloudflare:workers", "cloudflare:test", "cloudflare:sockets", "cloudflare:email"] },
    enhancedResolveOptions: {
      // package.json "imports" (#shared/*) resolve through enhanced-resolve's default importsFields (["imports"]);
      // ".ts" imports (allowImportingTsExtensions) resolve as the real files they name.
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "workerd", "worker", "browser", "types", "default"],
      mainFields: ["module", "main", "types", "typings"],
      extensions: [".ts", ".mts", ".d.ts", ".js", ".mjs", ".cjs", ".json"],
    },
    skipAnalysisNotInRules: true,
    cache: false,
  },
};
