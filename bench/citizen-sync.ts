/**
 * citizen-sync drain rate: events/s into `citizen_refs`, three ways, same process and database.
 *
 * 1. handler   — the citizen-sync Worker's batch path (`syncCitizenBatch`: CloudEvent checks,
 *                catalogue validation, dedup ledger, version-guarded set-based upsert in one
 *                transaction per batch of 100), with a pool of 5 like a Worker invocation.
 * 2. raw       — a bare script sending the same multi-row upsert (`jsonb_to_recordset`, version
 *                guard), pre-built rows, no validation, no ledger: the ceiling for this SQL.
 * 3. naive     — one connection per event, single-row upsert + ledger row: what a consumer
 *                without batching or pooling does.
 *
 * Usage: DATABASE_URL=postgres://... npx tsx bench/citizen-sync.ts [--events 20000] [--citizens 4000]
 * Writes bench/results/citizen-sync.json. Uses fresh random citizen ids; never deletes data.
 */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { migrate } from "../scripts/migrate.ts";
import { toConsumerMessage } from "../shared/src/consumers/consumer-message.ts";
import { syncCitizenBatch } from "../workers/citizen-sync/src/sync-batch.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    citizens: { type: "string", default: "4000" },
    "naive-events": { type: "string", default: "1000" },
    runs: { type: "string", default: "3" },
  },
});
const EVENTS = Number(values.events);
const CITIZENS = Number(values.citizens);
const NAIVE_EVENTS = Number(values["naive-events"]);
const RUNS = Number(values.runs);
const BATCH = 100;
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/edgebus_test";

type Event = ReturnType<typeof makeEvents>[number];

/** `citizens` citizens, each created then updated, versions increasing, shuffled (reordering). */
function makeEvents(count: number, citizens: number) {
  const base = 5_000_000_000 + Math.floor(Math.random() * 1_000_000_000_000);
  const versions = new Map<number, number>();
  const events = [];
  for (let n = 0; n < count; n++) {
    const id = base + (n % citizens);
    const version = (versions.get(id) ?? 0) + 1;
    versions.set(id, version);
    const snapshot = {
      id,
      name: `Citizen ${id}`,
      email: `c${id}.v${version}@example.org`,
      phone: "+35312345678",
      address: { line1: `${version} Main Street`, city: "Dublin", postal_code: "D02 X285", country: "IE" },
      email_verified: version % 2 === 0,
      identity_verified: false,
      created_at: "2026-03-14T09:21:07Z",
    };
    events.push({
      specversion: "1.0" as const,
      id: crypto.randomUUID(),
      source: "/bench/identity",
      type: version === 1 ? "gov.auth.citizen.created" : "gov.auth.citizen.updated",
      time: new Date().toISOString(),
      eventversion: version,
      partitionkey: String(id),
      data:
        version === 1
          ? snapshot
          : {
              ...snapshot,
              updated_at: "2026-05-02T16:40:00Z",
              changes: { email: { old: `c${id}.v${version - 1}@example.org`, new: snapshot.email } },
            },
    });
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [events[i], events[j]] = [events[j] as Event, events[i] as Event];
  }
  return events;
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

async function handlerRun(events: readonly Event[]): Promise<number> {
  const sql = postgres(DATABASE_URL, { max: 5, fetch_types: false, onnotice: () => {} });
  try {
    return await timed(async () => {
      for (const batch of batches(events, BATCH)) {
        const messages = batch.map((body, i) =>
          toConsumerMessage("permits-citizen-sync", {
            id: `${body.id}-${i}`,
            timestamp: new Date(),
            body,
            attempts: 1,
            ack() {},
            retry() {},
          }),
        );
        const outcomes = await syncCitizenBatch(messages, { sql, target: "permits", consumer: "bench:citizen-sync" });
        for (const outcome of outcomes.values())
          if (outcome.kind !== "consumed") throw new Error(`handler did not consume an event: ${outcome.kind}`);
      }
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function snapshotRow(event: Event) {
  const d = event.data;
  return {
    citizen_id: d.id,
    name: d.name,
    email: d.email,
    phone: d.phone,
    address: d.address,
    email_verified: d.email_verified,
    identity_verified: d.identity_verified,
    version: event.eventversion,
    event_id: event.id,
    event_source: event.source,
  };
}

const RAW_UPSERT = `
  insert into permits.citizen_refs as c (citizen_id, name, email, phone, address, email_verified, identity_verified,
    event_version, snapshot_version, last_event_id, last_event_source, last_synced_at)
  select x.citizen_id, x.name, x.email, x.phone, x.address, x.email_verified, x.identity_verified, x.version,
         x.version, x.event_id, x.event_source, now()
  from jsonb_to_recordset($1::text::jsonb) as x(citizen_id bigint, name text, email text, phone text, address jsonb,
    email_verified boolean, identity_verified boolean, version bigint, event_id text, event_source text)
  on conflict (citizen_id) do update set name = excluded.name, email = excluded.email, phone = excluded.phone,
    address = excluded.address,
    email_verified = excluded.email_verified or c.email_verified_version > excluded.snapshot_version,
    identity_verified = excluded.identity_verified or c.identity_verified_version > excluded.snapshot_version,
    snapshot_version = excluded.snapshot_version, event_version = greatest(c.event_version, excluded.event_version),
    last_event_id = excluded.last_event_id, last_event_source = excluded.last_event_source, last_synced_at = now()
  where coalesce(c.snapshot_version, c.event_version) < excluded.snapshot_version`;

async function rawRun(events: readonly Event[]): Promise<number> {
  const sql = postgres(DATABASE_URL, { max: 5, fetch_types: false, onnotice: () => {} });
  // Pre-built payloads, newest per citizen per batch (a multi-row upsert cannot touch a row twice).
  const payloads = batches(events, BATCH).map((batch) => {
    const newest = new Map<number, Event>();
    for (const e of batch) if ((newest.get(e.data.id)?.eventversion ?? 0) < e.eventversion) newest.set(e.data.id, e);
    return JSON.stringify([...newest.values()].map(snapshotRow));
  });
  try {
    return await timed(async () => {
      for (const payload of payloads) await sql.unsafe(RAW_UPSERT, [payload]);
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function naiveRun(events: readonly Event[]): Promise<number> {
  return timed(async () => {
    for (const event of events) {
      const sql = postgres(DATABASE_URL, { max: 1, fetch_types: false, onnotice: () => {} });
      await sql.begin(async (tx) => {
        await tx`insert into edgebus.processed_events (consumer, source, id) values ('bench:naive', ${event.source}, ${event.id})
                 on conflict do nothing`;
        await tx.unsafe(RAW_UPSERT, [JSON.stringify([snapshotRow(event)])]);
      });
      await sql.end({ timeout: 5 });
    }
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await migrate(admin);
  const [{ server_version } = { server_version: "?" }] = await admin<{ server_version: string }[]>`show server_version`;
  await admin.end({ timeout: 5 });

  const results = [];
  for (const [name, run, count, runs] of [
    ["handler", handlerRun, EVENTS, RUNS],
    ["raw", rawRun, EVENTS, RUNS],
    ["naive", naiveRun, NAIVE_EVENTS, 1],
  ] as const) {
    const seconds: number[] = [];
    for (let r = 0; r < runs; r++) {
      const events = makeEvents(count, Math.min(CITIZENS, count));
      seconds.push(await run(events));
    }
    const s = median(seconds);
    const rate = Math.round(count / s);
    results.push({ name, events: count, runs, median_seconds: Number(s.toFixed(3)), events_per_second: rate });
    console.log(`${name.padEnd(8)} ${count} events, median of ${runs}: ${s.toFixed(2)} s → ${rate} events/s`);
  }

  const cpus = os.cpus();
  const report = {
    benchmark: "citizen-sync drain rate into permits.citizen_refs",
    date: new Date().toISOString(),
    machine: {
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpu: cpus[0]?.model ?? "unknown",
      cpus: cpus.length,
      memory_gb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    },
    versions: { node: process.version, postgres_server: server_version, postgres_js: "3.4.9" },
    setup: {
      database: "local PostgreSQL over TCP (127.0.0.1), same process for all three",
      batch_size: BATCH,
      citizens: CITIZENS,
      events_note: "each citizen created then updated repeatedly; versions increase; events shuffled",
      handler_pool: 5,
    },
    results,
    notes: [
      "handler includes CloudEvent checks, zod catalogue validation, the processed_events ledger and the verification pass, so it does more work per event than raw",
      "naive opens and closes one connection per event (as a consumer without pooling would); it runs fewer events because it is slow",
      "measured in Node against a local server; a deployed Worker adds Hyperdrive's network round trips per statement",
      "the machine was shared with other test runs while measuring; compare the three rows of one run, not runs with each other",
    ],
  };
  const out = fileURLToPath(new URL("./results/citizen-sync.json", import.meta.url));
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
