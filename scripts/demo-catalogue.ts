/**
 * `npm run demo -- --catalogue commerce|learning`: one event of every type of a catalogue, sent
 * as that organisation's services send it (the event bus envelope with the short type names of
 * its design), to a dev stack started with `npm run dev -- --catalogues gov,commerce,learning`.
 * Prints each receipt (full type, Kafka topic and partition, queues) and, from the catalogue's
 * routes, which consumer groups read each topic.
 */
import type { CatalogueSet } from "#shared/catalogue/catalogue-set.ts";
import { matchesPattern } from "#shared/routing/event-pattern.ts";
import { loadCatalogues, SHIPPED_CATALOGUES } from "../schemas/catalogues.ts";
import type { Receipt } from "../workers/producer/src/api-schemas.ts";

export interface DemoStack {
  readonly producer: string;
  readonly apiKey: string;
}

/** The namespaces the running producer loaded, from `GET /v1/schemas`. */
async function loadedNamespaces(stack: DemoStack): Promise<string[]> {
  const response = await fetch(`${stack.producer}/v1/schemas`);
  const body = (await response.json()) as { schemas: { type: string }[] };
  return Object.keys(SHIPPED_CATALOGUES).filter((ns) => body.schemas.some((s) => s.type.startsWith(`${ns}.`)));
}

/** The short name a service would send, unless another loaded catalogue has it too (then the full type). */
function nameToSend(catalogues: CatalogueSet, type: string): string {
  const alias = catalogues.require(type).aliases?.[0];
  if (alias === undefined) return type;
  return catalogues.aliasTargets(alias).length === 1 ? alias : type;
}

export async function catalogueDemo(stack: DemoStack, namespace: string): Promise<void> {
  const loaded = await loadedNamespaces(stack);
  if (!loaded.includes(namespace)) {
    throw new Error(
      `the running producer has not loaded the ${namespace} catalogue (loaded: ${loaded.join(", ")}): restart with npm run dev -- --catalogues ${[...loaded, namespace].join(",")}`,
    );
  }
  const catalogues = loadCatalogues(loaded.join(","));
  const plugin = SHIPPED_CATALOGUES[namespace];
  if (plugin === undefined) throw new Error(`unknown catalogue ${namespace}`);
  console.log(`\n${namespace}: ${plugin.description}`);
  console.log(`one event of each of its ${plugin.catalogue.types().length} types, in the event bus envelope:\n`);
  const receipts: Receipt[] = [];
  const sentEvents = new Map<string, Record<string, unknown>>();
  for (const type of plugin.catalogue.types()) {
    const definition = plugin.catalogue.require(type);
    const sent = nameToSend(catalogues, type);
    const body = {
      eventId: crypto.randomUUID(),
      eventType: sent,
      timestamp: new Date().toISOString(),
      source: `${type.split(".").at(-2)}-service`,
      version: "1.0",
      data: definition.example,
      metadata: { correlationId: "edgebus-demo" },
    };
    const response = await fetch(`${stack.producer}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== 202) throw new Error(`${sent}: HTTP ${response.status} ${text}`);
    const receipt = JSON.parse(text) as Receipt;
    receipts.push(receipt);
    sentEvents.set(receipt.id, { type: receipt.type, source: body.source, data: body.data });
    const kafka = receipt.kafka
      ? `${receipt.kafka.topic}[${receipt.kafka.partition}]@${receipt.kafka.offset}`
      : "kafka off";
    const as = sent === type ? "" : ` (sent as ${sent})`;
    console.log(`  202 ${`${type}${as}`.padEnd(62)} → ${kafka}; ${receipt.queues.join(", ")}`);
  }
  console.log("\nconsumer groups (schemas/<namespace>/routes.json) and what they read of this run:");
  for (const rule of plugin.routes) {
    for (const group of rule.consumerGroups ?? []) {
      // The rule's pattern applied to what was sent (type, source, data), as the producer applied it.
      const read = receipts.filter((r) => matchesPattern(rule.pattern, sentEvents.get(r.id)));
      const topics = [...new Set(read.map((r) => catalogues.topicFor(r.type)))].sort();
      console.log(`  ${group.name.padEnd(22)} ${String(read.length).padStart(2)} event(s) on ${topics.join(", ")}`);
      console.log(`  ${"".padEnd(22)} services: ${group.services.join(", ")}`);
    }
  }
}
