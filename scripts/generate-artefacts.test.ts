import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import specs from "@asyncapi/specs";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { afterEach, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "#shared/names.ts";
import { loadCatalogues, SHIPPED_CATALOGUES } from "../schemas/catalogues.ts";
import { governmentCatalogue, governmentPlugin } from "../schemas/index.ts";
import { commerceCatalogue } from "../test/fixtures/commerce-catalogue.ts";
import { renderOpenApi } from "../workers/producer/src/producer-routes.ts";
import { ARTEFACTS, catalogueArtefacts, checkArtefacts, runCli, writeArtefacts } from "./generate-artefacts.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The official AsyncAPI 3.0.0 JSON Schema; its bundled draft-07 meta-schema clashes with ajv's own. */
function asyncApiValidator() {
  const schema = structuredClone(specs.schemas["3.0.0"]) as { definitions: Record<string, unknown> };
  delete schema.definitions["http://json-schema.org/draft-07/schema"];
  delete schema.definitions["http://json-schema.org/draft-04/schema"];
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

interface AsyncApiDoc {
  asyncapi: string;
  channels: Record<
    string,
    { address: string; messages: Record<string, unknown>; bindings?: { kafka: { partitions: number } } }
  >;
  operations: Record<string, { action: string; channel: { $ref: string } }>;
  components: { messages: Record<string, unknown>; schemas: Record<string, unknown> };
}

describe("committed artefacts", () => {
  it("match what the catalogue generates (run `npm run generate` after changing schemas)", async () => {
    const report = await checkArtefacts(root);
    expect(report).toEqual({ changed: [], stale: [] });
  });

  it("cover one JSON Schema per type plus the AsyncAPI document of every shipped catalogue", () => {
    const paths = ARTEFACTS.map((a) => a.path);
    for (const [namespace, plugin] of Object.entries(SHIPPED_CATALOGUES)) {
      for (const type of plugin.catalogue.types()) {
        expect(paths).toContain(`schemas/generated/${namespace}/json-schema/${type}.json`);
      }
      expect(paths).toContain(`schemas/generated/${namespace}/asyncapi.json`);
    }
  });

  it("include the producer's OpenAPI document with every shipped catalogue loaded", () => {
    const openApi = ARTEFACTS.find((a) => a.path === "schemas/generated/openapi.json");
    const everything = loadCatalogues(Object.keys(SHIPPED_CATALOGUES).join(","));
    expect(JSON.parse(openApi?.render() ?? "null")).toEqual(renderOpenApi(everything));
  });

  it("render deterministically with a trailing newline", () => {
    for (const artefact of ARTEFACTS) {
      const first = artefact.render();
      expect(artefact.render()).toBe(first);
      expect(first.endsWith("\n")).toBe(true);
      if (artefact.path.endsWith(".json")) expect(first.endsWith("}\n")).toBe(true);
    }
  });

  it("include the Grafana dashboard and the recording rules and promtool test of its queries (ops/)", () => {
    const paths = ARTEFACTS.map((a) => a.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "ops/grafana/edgebus.json",
        "ops/prometheus/dashboard.rules.yml",
        "ops/prometheus/tests/dashboard.test.yml",
      ]),
    );
  });
});

describe("the AsyncAPI document", () => {
  const validate = asyncApiValidator();
  const render = (catalogue: typeof governmentCatalogue) => {
    const [asyncApi] = catalogueArtefacts(catalogue, {
      directory: "out",
      title: "t",
      version: "1.0.0",
      routingRules: governmentPlugin.routes,
    }).filter((a) => a.path.endsWith("asyncapi.json"));
    return JSON.parse(asyncApi?.render() ?? "null") as AsyncApiDoc;
  };

  it.each([
    ["government", governmentCatalogue],
    ["test fixture", commerceCatalogue],
  ])("of the %s catalogue is valid AsyncAPI 3.0", (_, catalogue) => {
    const doc = render(catalogue);
    expect(doc.asyncapi).toBe("3.0.0");
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
  });

  it.each(Object.keys(SHIPPED_CATALOGUES))("committed for %s is valid AsyncAPI 3.0", async (namespace) => {
    const doc = JSON.parse(await readFile(path.join(root, `schemas/generated/${namespace}/asyncapi.json`), "utf8"));
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
  });

  it("carries the commerce topics' settings and consumer groups", async () => {
    const doc = JSON.parse(await readFile(path.join(root, "schemas/generated/commerce/asyncapi.json"), "utf8")) as {
      channels: Record<string, { bindings: { kafka: Record<string, unknown> }; messages: Record<string, unknown> }>;
      operations: Record<string, { summary: string }>;
    };
    expect(doc.channels["order-events"]?.bindings.kafka).toMatchObject({
      partitions: 12,
      replicas: 3,
      topicConfiguration: { "retention.ms": 604_800_000 },
    });
    expect(Object.keys(doc.channels["order-events"]?.messages ?? {})).toContain("commerce.payment.failed");
    expect(doc.operations["consume.inventory-events.inventory-updates"]?.summary).toContain("pricing-service");
    expect(doc.channels["permits-citizen-sync"]).toBeUndefined();
  });

  it("the official schema catches a broken document (the check can fail)", () => {
    const doc = render(governmentCatalogue);
    doc.channels["gov.auth.citizen"] = { ...doc.channels["gov.auth.citizen"], unknownKeyword: true } as never;
    expect(validate(doc)).toBe(false);
  });

  it("has a Kafka channel per topic with its partitions, and every type as a message", () => {
    const doc = render(governmentCatalogue);
    for (const topic of governmentCatalogue.topics()) {
      expect(doc.channels[topic.name]?.address).toBe(topic.name);
      expect(doc.channels[topic.name]?.bindings?.kafka.partitions).toBe(topic.partitions);
    }
    expect(Object.keys(doc.components.messages)).toEqual(governmentCatalogue.types());
    expect(Object.keys(doc.channels["gov.auth.citizen"]?.messages ?? {})).toEqual([
      "gov.auth.citizen.created",
      "gov.auth.citizen.deleted",
      "gov.auth.citizen.updated",
      "gov.auth.citizen.verified",
    ]);
  });

  it("has every queue and dead-letter queue, with the types the routing rules send there", () => {
    const doc = render(governmentCatalogue);
    for (const queue of QUEUE_NAMES) {
      expect(doc.channels[queue]?.address).toBe(queue);
      expect(doc.channels[`${queue}-dlq`]?.address).toBe(`${queue}-dlq`);
      expect(doc.operations[`consume.${queue}`]?.action).toBe("receive");
    }
    const citizenTypes = governmentCatalogue.types().filter((t) => t.startsWith("gov.auth.citizen."));
    expect(Object.keys(doc.channels["permits-citizen-sync"]?.messages ?? {})).toEqual(citizenTypes);
    expect(Object.keys(doc.channels["revenue-citizen-sync"]?.messages ?? {})).toEqual(citizenTypes);
    expect(Object.keys(doc.channels.archive?.messages ?? {})).toEqual(governmentCatalogue.types());
    expect(Object.keys(doc.channels.notifications?.messages ?? {})).toContain("gov.permits.application.approved");
    expect(Object.keys(doc.channels.notifications?.messages ?? {})).not.toContain("gov.auth.user.logged_in");
  });
});

describe("drift check on a scratch directory", () => {
  let scratch: string | undefined;
  afterEach(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("reports missing, edited and stale files, and writing fixes them", async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "edgebus-artefacts-"));
    const artefacts = catalogueArtefacts(commerceCatalogue, {
      directory: "gen",
      title: "commerce",
      version: "0.1.0",
      routingRules: [{ name: "all", description: "", pattern: {}, queues: ["archive"], kafka: true }],
    });
    const directories = ["gen/json-schema"];
    const all = artefacts.map((a) => a.path);

    expect(await checkArtefacts(scratch, artefacts, directories)).toEqual({ changed: all, stale: [] });
    expect((await writeArtefacts(scratch, artefacts, directories)).changed).toEqual(all);
    expect(await checkArtefacts(scratch, artefacts, directories)).toEqual({ changed: [], stale: [] });

    const edited = "gen/json-schema/com.example.orders.order.placed.json";
    await writeFile(path.join(scratch, edited), "{}\n");
    await writeFile(path.join(scratch, "gen/json-schema/com.example.orders.order.removed.json"), "{}\n");
    expect(await checkArtefacts(scratch, artefacts, directories)).toEqual({
      changed: [edited],
      stale: ["gen/json-schema/com.example.orders.order.removed.json"],
    });

    await writeArtefacts(scratch, artefacts, directories);
    expect(await checkArtefacts(scratch, artefacts, directories)).toEqual({ changed: [], stale: [] });
    const schema = JSON.parse(await readFile(path.join(scratch, edited), "utf8")) as { $id: string };
    expect(schema.$id).toBe("urn:edgebus:schema:com.example.orders.order.placed:v2");
  });
});

describe("command line", () => {
  let scratch: string | undefined;
  afterEach(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  function capture() {
    const lines: { log: string[]; error: string[] } = { log: [], error: [] };
    return { lines, output: { log: (l: string) => lines.log.push(l), error: (l: string) => lines.error.push(l) } };
  }

  it("--check exits 0 on the repository and 1 listing every drifted file elsewhere; writing fixes it", async () => {
    const clean = capture();
    expect(await runCli(["--check"], root, clean.output)).toBe(0);
    expect(clean.lines.log).toEqual([`generated artefacts are up to date (${ARTEFACTS.length} files)`]);

    scratch = await mkdtemp(path.join(tmpdir(), "edgebus-cli-"));
    const drifted = capture();
    expect(await runCli(["--check"], scratch, drifted.output)).toBe(1);
    expect(drifted.lines.error).toHaveLength(ARTEFACTS.length + 1);
    expect(drifted.lines.error).toContain("drifted: schemas/generated/gov/asyncapi.json");

    expect(await runCli([], scratch, capture().output)).toBe(0);
    expect(await runCli(["--check"], scratch, capture().output)).toBe(0);
  });
});
