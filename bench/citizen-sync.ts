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
 * Run: `npm run bench -- citizen-sync [--quick]`. Uses fresh random citizen ids; never deletes data.
 */
import postgres from "postgres";
import { toConsumerMessage } from "#shared/consumers/consumer-message.ts";
import { withReadableBodies } from "#shared/consumers/readable-bodies.ts";
import { syncCitizenBatch } from "../workers/citizen-sync/src/sync-batch.ts";
import type { BenchContext, Benchmark } from "./lib/benchmark.ts";
import { type BenchmarkReport, rateRow } from "./lib/result-file.ts";
import { median, round } from "./lib/stats.ts";

const BATCH = 100;
const FULL = { events: 20_000, citizens: 4000, naiveEvents: 1000, runs: 3 };
const QUICK = { events: 2000, citizens: 400, naiveEvents: 200, runs: 1 };

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

async function handlerRun(databaseUrl: string, events: readonly Event[]): Promise<number> {
  const sql = postgres(databaseUrl, { max: 5, fetch_types: false, onnotice: () => {} });
  try {
    // Each event as the queue delivers it: its JSON text, which the Worker reads with
    // `withReadableBodies` before `syncCitizenBatch`, as here (inside the timing).
    const delivered = events.map((event, i) => ({ id: `${event.id}-${i}`, body: JSON.stringify(event) }));
    return await timed(async () => {
      for (const batch of batches(delivered, BATCH)) {
        const readable = withReadableBodies({
          queue: "permits-citizen-sync",
          messages: batch.map(({ id, body }) => ({
            id,
            timestamp: new Date(),
            body,
            attempts: 1,
            ack() {},
            retry() {},
          })),
        });
        const messages = readable.messages.map((message) => toConsumerMessage(readable.queue, message));
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

async function rawRun(databaseUrl: string, events: readonly Event[]): Promise<number> {
  const sql = postgres(databaseUrl, { max: 5, fetch_types: false, onnotice: () => {} });
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

async function naiveRun(databaseUrl: string, events: readonly Event[]): Promise<number> {
  return timed(async () => {
    for (const event of events) {
      const sql = postgres(databaseUrl, { max: 1, fetch_types: false, onnotice: () => {} });
      await sql.begin(async (tx) => {
        await tx`insert into edgebus.processed_events (consumer, source, id) values ('bench:naive', ${event.source}, ${event.id})
                 on conflict do nothing`;
        await tx.unsafe(RAW_UPSERT, [JSON.stringify([snapshotRow(event)])]);
      });
      await sql.end({ timeout: 5 });
    }
  });
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size = context.quick ? QUICK : FULL;
  const results: { name: string; events: number; runs: number; median_seconds: number; events_per_second: number }[] =
    [];
  for (const [name, measure, count, runs] of [
    ["handler", handlerRun, size.events, size.runs],
    ["raw", rawRun, size.events, size.runs],
    ["naive", naiveRun, size.naiveEvents, 1],
  ] as const) {
    const seconds: number[] = [];
    for (let r = 0; r < runs; r++) {
      context.log(`${name}: run ${r + 1} of ${runs}, ${count} events`);
      const events = makeEvents(count, Math.min(size.citizens, count));
      seconds.push(await measure(context.databaseUrl, events));
    }
    const s = median(seconds);
    const rate = Math.round(count / s);
    results.push({ name, events: count, runs, median_seconds: round(s, 3), events_per_second: rate });
    context.log(`${name.padEnd(8)} ${count} events, median of ${runs}: ${s.toFixed(2)} s → ${rate} events/s`);
  }
  const rate = (name: string) => results.find((r) => r.name === name)?.events_per_second ?? Number.NaN;
  const [handler, raw, naive] = [rate("handler"), rate("raw"), rate("naive")];
  return {
    parameters: {
      database: "local PostgreSQL over TCP (127.0.0.1), same process for all three",
      batch_size: BATCH,
      events: size.events,
      naive_events: size.naiveEvents,
      citizens: size.citizens,
      runs: size.runs,
      events_note: "each citizen created then updated repeatedly; versions increase; events shuffled",
      handler_pool: 5,
      postgres_js: "3.4.9",
    },
    results,
    ratios: { handler_vs_raw: round(handler / raw, 2), handler_vs_naive: round(handler / naive, 1) },
    table: [
      rateRow(
        "citizen-sync drain rate vs raw batched SQL (events/s)",
        handler,
        { value: raw, label: "raw upsert" },
        { headline: true },
      ),
      rateRow(
        "citizen-sync drain rate vs naive per-event consumer (events/s)",
        handler,
        { value: naive, label: "naive" },
        { digits: 1 },
      ),
    ],
    chart: {
      title: "citizen-sync drain rate into permits.citizen_refs",
      subtitle: `${size.events} events in batches of ${BATCH}; naive: ${size.naiveEvents} events, one connection each`,
      panels: [
        {
          title: "drain rate, median of runs",
          unit: "events/s",
          groups: [
            {
              label: "citizen_refs",
              bars: [
                { label: "handler (Worker batch path)", value: handler, role: "ours" },
                { label: "raw batched upsert", value: raw, role: "baseline" },
                { label: "naive per event", value: naive, role: "reference" },
              ],
            },
          ],
        },
      ],
    },
    notes: [
      "handler includes CloudEvent checks, zod catalogue validation, the processed_events ledger and the verification pass, so it does more work per event than raw",
      "naive opens and closes one connection per event (as a consumer without pooling would); it runs fewer events because it is slow",
      "measured in Node against a local server; a deployed Worker adds Hyperdrive's network round trips per statement",
      "the machine was shared with other test runs while measuring; compare the three rows of one run, not runs with each other",
    ],
  };
}

export const citizenSyncBenchmark: Benchmark = {
  name: "citizen-sync",
  title: "citizen-sync drain rate into permits.citizen_refs",
  run,
};
