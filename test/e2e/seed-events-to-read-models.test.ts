/**
 * The government design's three citizen events, byte for byte as the design shows them
 * (test/fixtures/seed-events/), through the real stack (`npm run dev` on the suite's own Postgres
 * database): published by the auth service's key (its one source `/auth-service`), upcast by the
 * producer (seed-v1), applied by citizen-sync. Either order leaves the same row in
 * `permits.citizen_refs` and `revenue.citizen_refs`:
 *
 *   citizen 123, event_version 6, Maria Garcia, maria@email.com, +15550199,
 *   address {"text": "789 Oak Ave, Springfield"}, email_verified and identity_verified true
 *
 * and sent again they are duplicates. Each order runs on a stack and database of its own (the
 * events and citizen are the design's, so they cannot share one). The archive holds the current
 * shape, never the seed form.
 *
 * Needs Postgres (fails under CI=true without it). Ports 27871–27876 (this suite's range,
 * 27870–27879: below Linux's ephemeral range, 32768–60999, which outgoing connections take their
 * source ports from, so no connection on the machine can hold one for a moment).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { generateApiKey, hashApiKey } from "../../workers/producer/src/auth/key-hash.ts";
import {
  SEED_CITIZEN_EVENT_VERSION,
  SEED_CITIZEN_ID,
  SEED_CITIZEN_SNAPSHOT,
} from "../fixtures/seed-events/expected-citizen.ts";
import { requireService } from "../support/services.ts";
import { eventually, useDevStack } from "./dev-stack-process.ts";

const SUITE = "test/e2e/seed-events-to-read-models";
/** citizen-sync applies within seconds; an early verification waits for its retry (backoff ≤ 31 s). */
const TEST_TIMEOUT_MS = 180_000;
const available = await requireService("postgres", SUITE);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixture = (name: string) =>
  readFileSync(path.join(root, "test/fixtures/seed-events", `citizen.${name}.json`), "utf8");
/** The request bodies: the design's JSON, unchanged. */
const SEED = { created: fixture("created"), updated: fixture("updated"), verified: fixture("verified") };

// biome-ignore lint/suspicious/noExplicitAny: API bodies and rows are read field by field and asserted
type Json = Record<string, any>;

/** Postgres hands bigint columns back as strings. */
const EXPECTED_ROW = {
  citizen_id: String(SEED_CITIZEN_ID),
  event_version: String(SEED_CITIZEN_EVENT_VERSION),
  ...SEED_CITIZEN_SNAPSHOT,
  deleted_at: null,
};

const TYPES = {
  created: "gov.auth.citizen.created",
  updated: "gov.auth.citizen.updated",
  verified: "gov.auth.citizen.verified",
} as const;
type Name = keyof typeof TYPES;

function databaseUrl(name: string): string {
  const url = new URL(serviceUrls.postgres);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A stack on its own database with the auth service's key (one literal source, so the
 * verification without source is published from it).
 */
function seedStack(label: string, ports: { port: number; bridgePort: number; providerPort: number }) {
  const databaseName = `edgebus_e2e_seed_${label}_${crypto.randomUUID().slice(0, 8)}`;
  const authServiceKey = generateApiKey();
  let admin: postgres.Sql;
  let db: postgres.Sql;

  beforeAll(async () => {
    admin = postgres(serviceUrls.postgres, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${databaseName}`);
    db = postgres(databaseUrl(databaseName), { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await db?.end({ timeout: 5 });
    await admin?.unsafe(`drop database if exists ${databaseName} with (force)`).catch(() => {});
    await admin?.end({ timeout: 5 });
  }, 60_000);

  const dev = useDevStack(async () => ({
    ...ports,
    env: {
      DATABASE_URL: databaseUrl(databaseName),
      EDGEBUS_DEV_EXTRA_API_KEYS: JSON.stringify([
        {
          id: "auth-service",
          hash: await hashApiKey(authServiceKey),
          sources: ["/auth-service"],
          types: ["gov.auth.citizen.*"],
        },
      ]),
    },
  }));

  async function post(route: string, body: string, contentType: string, key = authServiceKey) {
    const response = await fetch(`${dev.stack.info.producer}${route}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": contentType },
      body,
    });
    return { status: response.status, json: (await response.json()) as Json };
  }

  /** Publishes one design event as the design shows it; returns its receipt. */
  async function publish(name: Name): Promise<Json> {
    const { status, json } = await post("/v1/events", SEED[name], "application/json");
    expect(status, JSON.stringify(json)).toBe(202);
    expect(json).toMatchObject({ type: TYPES[name], received_as: "seed-v1" });
    return json;
  }

  async function rows(): Promise<Json[]> {
    return db`
      select 'permits' as model, citizen_id::text, event_version::text, name, email, phone, address,
             email_verified, identity_verified, deleted_at, last_event_id, last_event_source
      from permits.citizen_refs where citizen_id = 123
      union all
      select 'revenue', citizen_id::text, event_version::text, name, email, phone, address,
             email_verified, identity_verified, deleted_at, last_event_id, last_event_source
      from revenue.citizen_refs where citizen_id = 123
      order by model`;
  }

  /** Both read models hold the expected row (waits for citizen-sync). */
  async function expectTheRow(): Promise<Json[]> {
    const found = await eventually(
      "citizen 123 at event_version 6 in permits and revenue citizen_refs",
      async () => {
        const current = await rows();
        return current.length === 2 && current.every((row) => row.event_version === "6") ? current : undefined;
      },
      { timeoutMs: 90_000 },
    );
    for (const row of found) {
      const { model: _, last_event_id: __, last_event_source: ___, ...columns } = row;
      expect(columns, row.model).toEqual(EXPECTED_ROW);
      expect(row.last_event_source).toBe("/auth-service");
    }
    return found;
  }

  return { dev, post, publish, rows, expectTheRow, db: () => db };
}

describe.skipIf(!available)("the design's citizen events through npm run dev into citizen_refs", () => {
  describe("in the design's order: created (1), updated (5), verified (6)", () => {
    const stack = seedStack("order", { port: 27871, bridgePort: 27872, providerPort: 27873 });

    it(
      "each is accepted as the design shows it and upcast; the row holds the design's values",
      async () => {
        const receipts = [];
        for (const name of ["created", "updated", "verified"] as const) receipts.push(await stack.publish(name));
        expect(receipts.map((receipt) => [receipt.id, receipt.status])).toEqual([
          ["evt_123_1705312200", "accepted"],
          ["evt_123_1705398600", "accepted"],
          ["evt_123_1705485000", "accepted"],
        ]);
        await stack.expectTheRow();

        // The archive (and so every consumer and Kafka) has the current shape only.
        const archived = await eventually("the three events in the archive", async () => {
          const found = await stack.db()`
          select id, type, source, eventversion::int, event from edgebus.event_archive
          where id like 'evt_123_%' order by eventversion`;
          return found.length === 3 ? found : undefined;
        });
        expect(archived.map((row) => [row.type, row.source, row.eventversion])).toEqual([
          [TYPES.created, "/auth-service", 1],
          [TYPES.updated, "/auth-service", 5],
          [TYPES.verified, "/auth-service", 6],
        ]);
        expect(archived[0]?.event).toMatchObject({
          sourceinstance: "auth-1",
          sourceversion: "1.2.0",
          correlationid: "req_abc123",
          data: { id: 123, phone: "+15550123", address: { text: "456 Main St, Springfield" } },
        });
        expect(archived[2]?.event.data).toMatchObject({
          verified_by: "EMP-000456",
          verified_at: archived[2]?.event.time,
        });
        for (const row of archived) expect(row.event.data).not.toHaveProperty("citizen_id");
      },
      TEST_TIMEOUT_MS,
    );

    it(
      "sent again, one by one and as a batch, they are duplicates and the row is unchanged",
      async () => {
        for (const name of ["created", "updated", "verified"] as const) {
          expect((await stack.publish(name)).status).toBe("duplicate");
        }
        const batch = `[${SEED.created},${SEED.updated},${SEED.verified}]`;
        const { status, json } = await stack.post("/v1/events/batch", batch, "application/cloudevents-batch+json");
        expect(status).toBe(200);
        expect(json).toMatchObject({ accepted: 0, duplicate: 3, rejected: 0 });
        const [permits] = await stack.expectTheRow();
        expect(permits?.last_event_id).toBe("evt_123_1705485000");
      },
      TEST_TIMEOUT_MS,
    );

    it(
      "the dev key (any source) cannot stand in for the verification's missing source: 422 naming source",
      async () => {
        const { status, json } = await stack.post(
          "/v1/events",
          SEED.verified,
          "application/json",
          stack.dev.stack.info.apiKey,
        );
        expect(status).toBe(422);
        expect(json.error).toMatchObject({
          code: "schema_validation_failed",
          details: { issues: [{ path: "source" }] },
        });
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe("in reverse order: verified (6), updated (5), created (1)", () => {
    const stack = seedStack("reverse", { port: 27874, bridgePort: 27875, providerPort: 27876 });

    it(
      "the early verification waits for the citizen; the row ends the same; again as a batch: duplicates",
      async () => {
        await stack.publish("verified");
        // A verification of a citizen not known yet leaves no row (citizen-sync retries it).
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        expect(await stack.rows()).toEqual([]);
        await stack.publish("updated");
        await stack.publish("created");
        const [permits] = await stack.expectTheRow();
        expect(permits?.last_event_id).toBe("evt_123_1705485000");

        const batch = `[${SEED.verified},${SEED.updated},${SEED.created}]`;
        const { json } = await stack.post("/v1/events/batch", batch, "application/cloudevents-batch+json");
        expect(json).toMatchObject({ accepted: 0, duplicate: 3, rejected: 0 });
        for (const result of json.results) expect(result.receipt.received_as).toBe("seed-v1");
      },
      TEST_TIMEOUT_MS,
    );
  });
});
