/**
 * Writes the artefacts generated from the catalogue, which are committed so reviewers see every
 * contract change as a diff:
 *   schemas/generated/<namespace>/json-schema/<type>.json   JSON Schema (2020-12) of each event type
 *   schemas/generated/<namespace>/asyncapi.json             AsyncAPI 3.0 document of each catalogue
 *   schemas/generated/openapi.json              OpenAPI 3.1 document of the producer API with every
 *                                               shipped catalogue loaded
 *   ops/grafana/edgebus.json                    Grafana dashboard (ops/grafana/panels.ts)
 *   ops/prometheus/dashboard.rules.yml          one recording rule per dashboard query
 *   ops/prometheus/tests/dashboard.test.yml     their promtool unit test
 *   workers/producer/src/console/console-pages.generated.ts
 *                                               the operator console's pages, embedded in the producer
 *
 * Usage: `npx tsx scripts/generate-artefacts.ts` (write) or `... --check` (exit 1 listing files
 * that differ from what the code would generate, are missing, or are left over).
 *
 * Other generated documents join by adding `{ path, render }` entries to `ARTEFACTS`.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { eventJsonSchema } from "#shared/catalogue/event-json-schema.ts";
import type { RoutingRule } from "#shared/routing/routing-rule.ts";
import { OPS_ARTEFACTS } from "../ops/artefacts.ts";
import { loadCatalogues, SHIPPED_CATALOGUES } from "../schemas/catalogues.ts";
import { renderOpenApi } from "../workers/producer/src/producer-routes.ts";
import { asyncApiDocument } from "./asyncapi-document.ts";
import { CONSOLE_PAGES_MODULE, renderConsolePagesModule } from "./console-pages-module.ts";

export interface Artefact {
  /** Path relative to the repository root, with `/` separators. */
  readonly path: string;
  /** The complete file content; must be deterministic (same code → same bytes). */
  render(): string;
}

/** Pretty JSON with a trailing newline; key order is the construction order, which is fixed. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export interface CatalogueArtefactOptions {
  /** Directory (relative to the root) the files go into, e.g. `schemas/generated`. */
  readonly directory: string;
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly routingRules: readonly RoutingRule[];
}

/** JSON Schema per type plus the AsyncAPI document of `catalogue`. */
export function catalogueArtefacts(catalogue: Catalogue, options: CatalogueArtefactOptions): Artefact[] {
  const schemas: Artefact[] = catalogue.types().map((type) => ({
    path: `${options.directory}/json-schema/${type}.json`,
    render: () => renderJson(eventJsonSchema(catalogue.require(type))),
  }));
  const asyncApi: Artefact = {
    path: `${options.directory}/asyncapi.json`,
    render: () =>
      renderJson(
        asyncApiDocument(catalogue, {
          title: options.title,
          version: options.version,
          routingRules: options.routingRules,
          ...(options.description === undefined ? {} : { description: options.description }),
        }),
      ),
  };
  return [...schemas, asyncApi];
}

/**
 * Directories whose contents are entirely generated: a file in them that no artefact produces
 * is stale (e.g. the schema of a removed type) and counts as drift.
 */
export const GENERATED_DIRECTORIES = Object.keys(SHIPPED_CATALOGUES).map(
  (namespace) => `schemas/generated/${namespace}/json-schema`,
);

const ASYNCAPI_DESCRIPTIONS: Readonly<Record<string, string>> = {
  gov: "Events exchanged between government services (identity, permits, revenue, documents, notifications) through edgebus: CloudEvents 1.0 in structured JSON form, published to Kafka topics gov.<domain>.<entity> and fanned out to Cloudflare Queues.",
  commerce:
    "Order, inventory, payment and customer events of the generic event bus through edgebus: sent in the bus envelope or as CloudEvents, published to order-events, inventory-events and customer-events (lz4, replication 3) and read by its consumer groups.",
  learning:
    "The learning hub's events through edgebus: one Kafka topic per event type with the hub's partition counts and retention, read by one consumer group per subscribing service.",
};

export const ARTEFACTS: readonly Artefact[] = [
  ...Object.entries(SHIPPED_CATALOGUES).flatMap(([namespace, plugin]) =>
    catalogueArtefacts(plugin.catalogue, {
      directory: `schemas/generated/${namespace}`,
      title: `edgebus ${namespace} event catalogue`,
      version: "1.0.0",
      description: ASYNCAPI_DESCRIPTIONS[namespace] ?? plugin.description,
      routingRules: plugin.routes,
    }),
  ),
  // The producer's OpenAPI document (served at GET /openapi.json) with every shipped catalogue
  // loaded; a deployment serves the same document for the catalogues it loads.
  {
    path: "schemas/generated/openapi.json",
    render: () => renderJson(renderOpenApi(loadCatalogues(Object.keys(SHIPPED_CATALOGUES).join(",")))),
  },
  // The Grafana dashboard and the recording rules + promtool test that check its queries (ops/README.md).
  ...OPS_ARTEFACTS,
  // The operator console's pages, which the producer serves from its bundle (console-pages.ts).
  { path: CONSOLE_PAGES_MODULE, render: () => renderConsolePagesModule(REPOSITORY_ROOT) },
];

export interface DriftReport {
  /** Artefacts whose file is missing or differs from the rendered content. */
  readonly changed: string[];
  /** Files in generated directories that no artefact produces. */
  readonly stale: string[];
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function staleFiles(
  root: string,
  artefacts: readonly Artefact[],
  directories: readonly string[],
): Promise<string[]> {
  const produced = new Set(artefacts.map((a) => a.path));
  const stale: string[] = [];
  for (const directory of directories) {
    let entries: string[];
    try {
      entries = await readdir(path.join(root, directory));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    for (const entry of entries.sort()) {
      const relative = `${directory}/${entry}`;
      if (!produced.has(relative)) stale.push(relative);
    }
  }
  return stale;
}

export async function checkArtefacts(
  root: string,
  artefacts: readonly Artefact[] = ARTEFACTS,
  directories: readonly string[] = GENERATED_DIRECTORIES,
): Promise<DriftReport> {
  const changed: string[] = [];
  for (const artefact of artefacts) {
    if ((await readIfExists(path.join(root, artefact.path))) !== artefact.render()) changed.push(artefact.path);
  }
  return { changed, stale: await staleFiles(root, artefacts, directories) };
}

/** Writes every artefact that changed and removes stale files; returns what it touched. */
export async function writeArtefacts(
  root: string,
  artefacts: readonly Artefact[] = ARTEFACTS,
  directories: readonly string[] = GENERATED_DIRECTORIES,
): Promise<DriftReport> {
  const report = await checkArtefacts(root, artefacts, directories);
  for (const artefact of artefacts) {
    if (!report.changed.includes(artefact.path)) continue;
    const file = path.join(root, artefact.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, artefact.render());
  }
  for (const file of report.stale) await rm(path.join(root, file));
  return report;
}

/** The repository root (this file lives in `scripts/`). */
export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface CliOutput {
  log(line: string): void;
  error(line: string): void;
}

/** The command line: write (default) or `--check`; returns the exit code. */
export async function runCli(
  argv: readonly string[],
  root: string = REPOSITORY_ROOT,
  output: CliOutput = { log: console.log, error: console.error },
): Promise<number> {
  if (argv.includes("--check")) {
    const { changed, stale } = await checkArtefacts(root);
    if (changed.length === 0 && stale.length === 0) {
      output.log(`generated artefacts are up to date (${ARTEFACTS.length} files)`);
      return 0;
    }
    for (const file of changed) output.error(`drifted: ${file}`);
    for (const file of stale) output.error(`stale:   ${file}`);
    output.error("run `npm run generate` and commit the result");
    return 1;
  }
  const { changed, stale } = await writeArtefacts(root);
  for (const file of changed) output.log(`wrote   ${file}`);
  for (const file of stale) output.log(`removed ${file}`);
  output.log(`${changed.length + stale.length} of ${ARTEFACTS.length} artefacts changed`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
