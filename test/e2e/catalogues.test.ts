/**
 * Every shipped catalogue through `npm run dev -- --catalogues gov,commerce,learning` with Kafka:
 * one event of every type of gov, commerce and learning (gov as CloudEvents, the others in the
 * event bus envelope with their short type names, from keys of their own catalogue), and for each:
 * the receipt names the catalogue's topic and the queues its routes give; the Kafka record is on
 * that topic with the entity id as key; the archive Worker stored it; the kafka-mirror Worker's
 * copy reached `onprem.<topic>`.
 */
import { Admin, Consumer } from "@platformatic/kafka";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { routeEvent } from "#shared/routing/router.ts";
import { loadCatalogues, SHIPPED_CATALOGUES } from "../../schemas/catalogues.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import type { Receipt } from "../../workers/producer/src/api-schemas.ts";
import { generateApiKey, hashApiKey } from "../../workers/producer/src/auth/key-hash.ts";
import { randomCitizenId } from "../support/migrated-database.ts";
import { requireService } from "../support/services.ts";
import { eventually, useDevStack } from "./dev-stack-process.ts";

const SUITE = "every catalogue type through npm run dev";
const postgresUp = await requireService("postgres", SUITE);
const kafkaUp = await requireService("kafka", SUITE);

/** Below Linux's ephemeral range (32768–60999), which outgoing connections take their source ports from. */
const PORTS = { port: 26887, bridgePort: 26888, providerPort: 26890 };
const SETTING = Object.keys(SHIPPED_CATALOGUES).join(",");
const catalogues = loadCatalogues(SETTING);
const run = crypto.randomUUID().slice(0, 8);

/** One key per non-gov catalogue, so short names resolve by the key's catalogue. */
const keys = Object.fromEntries(
  await Promise.all(
    Object.keys(SHIPPED_CATALOGUES)
      .filter((namespace) => namespace !== "gov")
      .map(async (namespace) => {
        const key = generateApiKey();
        const entry = {
          id: `e2e-${namespace}`,
          hash: await hashApiKey(key),
          sources: ["**"],
          types: [`${namespace}.**`],
        };
        return [namespace, { key, entry }] as const;
      }),
  ),
);

interface Sent {
  readonly type: string;
  readonly id: string;
  readonly source: string;
  readonly data: Record<string, unknown>;
  readonly receipt: Receipt;
}

/** Example data, with citizen ids of this run so no other suite's citizen is touched. */
function dataOf(type: string, citizen: number): Record<string, unknown> {
  const data = structuredClone(catalogues.require(type).example) as Record<string, unknown>;
  if (type.startsWith("gov.auth.citizen.")) data.id = citizen;
  if (typeof data.citizen_id === "number") data.citizen_id = citizen;
  return data;
}

describe.runIf(postgresUp && kafkaUp)(SUITE, () => {
  const dev = useDevStack(() => ({
    ...PORTS,
    env: {
      DATABASE_URL: serviceUrls.postgres,
      KAFKA_BROKERS: serviceUrls.kafkaBrokers.join(","),
      EDGEBUS_CATALOGUES: SETTING,
      EDGEBUS_DEV_API_KEY: `ebk_e2e_${crypto.randomUUID().replaceAll("-", "")}`,
      EDGEBUS_DEV_EXTRA_API_KEYS: JSON.stringify(Object.values(keys).map((k) => k.entry)),
    },
  }));
  let sql: postgres.Sql;
  const sent: Sent[] = [];

  beforeAll(async () => {
    sql = postgres(serviceUrls.postgres, { max: 2, onnotice: () => {} });
    await recordStartOffsets();
  });
  afterAll(async () => {
    await sql?.end();
  });

  it("accepts one event of every type, each on its catalogue's topic with the queues its routes give", async () => {
    const { producer, apiKey } = dev.stack.info;
    for (const type of catalogues.types()) {
      const namespace = catalogues.pluginOf(type)?.catalogue.namespace as string;
      const definition = catalogues.require(type);
      const id = `${run}-${type}`;
      const data = dataOf(type, randomCitizenId());
      let body: Record<string, unknown>;
      let key = apiKey;
      let source: string;
      if (namespace === "gov") {
        source = `/services/${type.split(".")[1]}`;
        body = {
          specversion: "1.0",
          id,
          source,
          type,
          ...(definition.requiresEventVersion ? { eventversion: 1 } : {}),
          data,
        };
      } else {
        source = `${type.split(".").at(-2)}-service`;
        body = {
          eventId: id,
          eventType: definition.aliases?.[0] ?? type,
          timestamp: new Date().toISOString(),
          source,
          version: "1.0",
          data,
        };
        key = keys[namespace]?.key as string;
      }
      const response = await fetch(`${producer}/v1/events`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": namespace === "gov" ? "application/cloudevents+json" : "application/json",
        },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      expect(response.status, `${type}: ${text}`).toBe(202);
      const receipt = JSON.parse(text) as Receipt;
      expect(receipt.type).toBe(type);
      expect(receipt.kafka?.topic, type).toBe(catalogues.topicFor(type));
      const event = { specversion: "1.0", id, source, type, time: "", data } as CloudEventRecord;
      const expected = routeEvent(catalogues.routesFor(type), event, { kafkaEnabled: true });
      expect(receipt.queues, type).toEqual(expected.queues);
      sent.push({ type, id, source, data, receipt });
    }
    expect(sent).toHaveLength(catalogues.types().length);
  }, 180_000);

  it("wrote each to Kafka keyed by its entity id, and the mirror's copy to onprem.<topic>", async () => {
    expect(sent.length).toBeGreaterThan(0);
    const topics = [...new Set(sent.map((s) => catalogues.topicFor(s.type)))];
    const wanted = [...topics, ...topics.map((topic) => `onprem.${topic}`)];
    const records = new Map<string, { topic: string; partition: number; key: string }>();
    await eventually(
      "every event in its topic and its mirror topic",
      async () => {
        await readTopics(wanted, records);
        const missing = sent.filter(
          (s) =>
            !records.has(`${catalogues.topicFor(s.type)}|${s.id}`) ||
            !records.has(`onprem.${catalogues.topicFor(s.type)}|${s.id}`),
        );
        return missing.length === 0 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2000 },
    );
    for (const s of sent) {
      const topic = catalogues.topicFor(s.type);
      const record = records.get(`${topic}|${s.id}`);
      const entity = catalogues.entityIdOf(s.type, s.data);
      expect(record?.key, s.type).toBe(entity);
      expect(record?.partition, s.type).toBe(s.receipt.kafka?.partition);
      expect(records.get(`onprem.${topic}|${s.id}`)?.key, `${s.type} mirrored`).toBe(entity);
    }
  }, 180_000);

  it("archived every event (the archive queue every catalogue routes to)", async () => {
    const ids = sent.map((s) => s.id);
    const rows = await eventually(
      "every event in edgebus.event_archive",
      async () => {
        const found = await sql<{ id: string; type: string }[]>`
          select id, type from edgebus.event_archive where id in ${sql(ids)}`;
        return found.length === ids.length ? found : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(new Set(rows.map((row) => row.type))).toEqual(new Set(catalogues.types()));
  }, 120_000);
});

/**
 * Each catalogue topic's and mirror topic's end offsets before the suite publishes anything: the
 * suite reads from there, not from the start, so a broker that already holds other runs' records
 * (a developer's, or benchmarks' hundreds of megabytes on `gov.*`) costs it nothing. A topic that
 * does not exist yet is read from offset 0 once it does.
 */
const startOffsets = new Map<string, readonly bigint[]>();

function kafkaClients() {
  const consumer = new Consumer<Buffer, Buffer | null, Buffer, Buffer>({
    clientId: `catalogues-e2e-${run}`,
    groupId: `catalogues-e2e-${run}-${Math.random()}`,
    bootstrapBrokers: serviceUrls.kafkaBrokers,
  });
  const admin = new Admin({ clientId: `catalogues-e2e-${run}-admin`, bootstrapBrokers: serviceUrls.kafkaBrokers });
  return { consumer, admin };
}

async function recordStartOffsets(): Promise<void> {
  const topics = [...new Set(catalogues.types().map((type) => catalogues.topicFor(type)))];
  const { consumer, admin } = kafkaClients();
  try {
    const existing = new Set(await admin.listTopics({ includeInternals: false }));
    const present = [...topics, ...topics.map((topic) => `onprem.${topic}`)].filter((topic) => existing.has(topic));
    if (present.length === 0) return;
    const ends = await consumer.listOffsets({ topics: present, timestamp: -1n });
    for (const [topic, offsets] of ends) startOffsets.set(topic, offsets);
  } finally {
    await consumer.close(true);
    await admin.close();
  }
}

/** Reads `topics` (those that exist) from the recorded start offsets into `records`: `topic|ce_id` → partition and key. */
async function readTopics(
  topics: readonly string[],
  records: Map<string, { topic: string; partition: number; key: string }>,
): Promise<void> {
  const { consumer, admin } = kafkaClients();
  try {
    const existing = new Set(await admin.listTopics({ includeInternals: false }));
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length === 0) return;
    const ends = await consumer.listOffsets({ topics: present, timestamp: -1n });
    const offsets = [...ends].flatMap(([topic, partitionEnds]) =>
      partitionEnds.map((_, partition) => ({ topic, partition, offset: startOffsets.get(topic)?.[partition] ?? 0n })),
    );
    const stream = await consumer.consume({
      topics: present,
      mode: "manual",
      offsets,
      autocommit: false,
      maxWaitTime: 300,
    });
    const timer = setTimeout(() => void stream.close(), 8000);
    for await (const message of stream) {
      const id = [...message.headers].find(([name]) => name.toString() === "ce_id")?.[1]?.toString();
      if (id?.startsWith(run)) {
        records.set(`${message.topic}|${id}`, {
          topic: message.topic,
          partition: message.partition,
          key: message.key?.toString() ?? "",
        });
      }
    }
    clearTimeout(timer);
  } finally {
    await consumer.close(true);
    await admin.close();
  }
}
