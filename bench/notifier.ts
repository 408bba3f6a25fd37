/**
 * notifier send rate: notifications/s into the local provider (scripts/local-provider.ts, started
 * in this process), two ways against the same provider:
 *
 * 1. notifier — the notifier Worker's batch handler (`handleNotificationBatch`, run in Node like
 *               bench/citizen-sync.ts, no workerd) draining batches of 100
 *               `gov.permits.application.approved` events for citizens present in
 *               `permits.citizen_refs` (published without contact details, so every recipient is
 *               looked up), each sending one email through SendGrid's Mail Send API: recipient
 *               lookup, templates, the `edgebus.notifications` ledger (reserved before the send,
 *               marked after), consumer metrics, acks.
 * 2. direct   — the same HTTP requests (the Mail Send bodies the notifier sent, captured from its
 *               run, same endpoint and headers) sent straight to the provider with `fetch`, at
 *               most 6 at a time: the connections one Worker invocation may hold.
 *
 * Round trips per send are counted in a separate pass (not timed): the handler's Postgres
 * connection goes through a small TCP relay that counts the statements (protocol `Sync` /
 * simple `Query` messages), and `fetch` is wrapped to count provider requests.
 *
 * Run: `npm run bench -- notifier [--quick]`. Fresh citizen ids and event ids; never deletes data.
 */
import net from "node:net";
import postgres from "postgres";
import type { QueueBatch } from "#shared/consumers/consumer-message.ts";
import { governmentCatalogue } from "../schemas/index.ts";
import { startLocalProvider } from "../scripts/local-provider.ts";
import { handleNotificationBatch } from "../workers/notifier/src/index.ts";
import type { BenchContext, Benchmark } from "./lib/benchmark.ts";
import { type ProfileSummary, profileCpu } from "./lib/cpu-profile.ts";
import { type BenchmarkReport, rateRow } from "./lib/result-file.ts";
import { median, round } from "./lib/stats.ts";

const BATCH = 100;
/** Simultaneous outgoing connections a Worker invocation may hold. */
const WORKER_CONNECTIONS = 6;
const FULL = { events: 5000, runs: 3 };
const QUICK = { events: 500, runs: 1 };
const QUEUE = "notifications";

interface CapturedRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Citizens known to `permits.citizen_refs`, with an email address and no phone (email only). */
async function seedCitizens(sql: postgres.Sql, count: number): Promise<number[]> {
  const base = 7_000_000_000 + Math.floor(Math.random() * 1_000_000_000_000);
  const ids = Array.from({ length: count }, (_, n) => base + n);
  const rows = ids.map((id) => ({
    citizen_id: id,
    name: `Citizen ${id}`,
    email: `c${id}@example.org`,
    preferred_language: "en",
  }));
  await sql.unsafe(
    `insert into permits.citizen_refs (citizen_id, name, email, preferred_language, event_version, last_event_id,
       last_event_source)
     select x.citizen_id, x.name, x.email, x.preferred_language, 1, 'bench-seed', '/bench/notifier'
     from jsonb_to_recordset($1::text::jsonb) as x(citizen_id bigint, name text, email text, preferred_language text)
     on conflict (citizen_id) do nothing`,
    [JSON.stringify(rows)],
  );
  return ids;
}

/** The catalogue's example approval without its applicant contact details: every recipient is looked up. */
const { applicant: _applicant, ...approvalExample } = governmentCatalogue.require("gov.permits.application.approved")
  .example as Record<string, unknown>;

/** A permit approval for `citizenId`, published by a key without `notify:direct-contact`. */
function approvedEvent(citizenId: number, n: number) {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/bench/permits",
    type: "gov.permits.application.approved",
    time: new Date().toISOString(),
    partitionkey: String(citizenId),
    edgebuskeyid: "permits-service",
    edgebusdirectcontact: false,
    data: {
      ...approvalExample,
      application_id: `PA-2026-${String(n % 1_000_000).padStart(6, "0")}`,
      citizen_id: citizenId,
      permit_number: `PRM-2026-${String(n % 1_000_000).padStart(6, "0")}`,
    },
  };
}

/** A batch as the queue delivers it: each event's JSON text, as the producer sends it (the handler parses it). */
function queueBatch(bodies: readonly string[], settled: { acked: number; other: number }): QueueBatch {
  return {
    queue: QUEUE,
    messages: bodies.map((body, i) => ({
      id: `bench-${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body,
      ack: () => {
        settled.acked++;
      },
      retry: () => {
        settled.other++;
      },
    })),
  };
}

function notifierEnv(databaseUrl: string, providerUrl: string, credentials: Record<string, string>) {
  const connection = new URL(databaseUrl);
  connection.searchParams.set("application_name", `edgebus-bench-notifier-${crypto.randomUUID()}`);
  return {
    MAX_RETRIES: "5",
    HYPERDRIVE: { connectionString: connection.toString() },
    DEAD_LETTER_QUEUE: {
      async send() {
        throw new Error("bench: a notification was dead-lettered");
      },
    },
    SENDGRID_API_KEY: credentials.sendgridApiKey,
    SENDGRID_BASE_URL: providerUrl,
    SENDGRID_FROM: "noreply@council.example.gov",
    TWILIO_ACCOUNT_SID: credentials.twilioAccountSid,
    TWILIO_AUTH_TOKEN: credentials.twilioAuthToken,
    TWILIO_FROM: credentials.twilioFrom,
    TWILIO_BASE_URL: providerUrl,
  };
}

/**
 * `fetch` wrapped for the duration of `work`: counts requests and keeps the first `keep` of them
 * (method, URL, headers, body) so the direct way can send the very same ones.
 */
async function withFetchRecorder<T>(
  keep: number,
  work: () => Promise<T>,
): Promise<{ value: T; requests: number; captured: CapturedRequest[] }> {
  const original = globalThis.fetch;
  const captured: CapturedRequest[] = [];
  let requests = 0;
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    requests++;
    if (captured.length < keep && typeof init?.body === "string") {
      captured.push({
        url: String(input instanceof Request ? input.url : input),
        method: init.method ?? "GET",
        headers: Object.fromEntries(new Headers(init.headers).entries()),
        body: init.body,
      });
    }
    return original(input, init);
  };
  try {
    return { value: await work(), requests, captured };
  } finally {
    globalThis.fetch = original;
  }
}

/** The handler's log lines are formatted as in a Worker but not written (they would flood the terminal). */
async function withoutLogOutput<T>(work: () => Promise<T>): Promise<T> {
  const { log, info, warn } = console;
  console.log = console.info = console.warn = () => {};
  try {
    return await work();
  } finally {
    Object.assign(console, { log, info, warn });
  }
}

/**
 * The handler opens a client per batch, as a Worker does per invocation; workerd closes its sockets
 * when the invocation ends, Node does not, so after each batch (outside the timing) the bench ends
 * the batch's server sessions, found by the `application_name` in the handler's connection string.
 */
async function endHandlerSessions(sql: postgres.Sql, env: ReturnType<typeof notifierEnv>): Promise<void> {
  const name = new URL(env.HYPERDRIVE.connectionString).searchParams.get("application_name");
  await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${name}`;
}

async function drain(
  sql: postgres.Sql,
  events: readonly string[],
  env: ReturnType<typeof notifierEnv>,
): Promise<{ seconds: number; acked: number }> {
  const settled = { acked: 0, other: 0 };
  let seconds = 0;
  await withoutLogOutput(async () => {
    for (let i = 0; i < events.length; i += BATCH) {
      const started = performance.now();
      await handleNotificationBatch(queueBatch(events.slice(i, i + BATCH), settled), env);
      seconds += (performance.now() - started) / 1000;
      await endHandlerSessions(sql, env);
    }
  });
  if (settled.acked !== events.length) {
    throw new Error(`notifier acked ${settled.acked} of ${events.length} events (${settled.other} retried)`);
  }
  return { seconds, acked: settled.acked };
}

/** The captured requests sent straight to the provider, `WORKER_CONNECTIONS` at a time. */
async function direct(requests: readonly CapturedRequest[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++] as CapturedRequest;
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
      await response.body?.cancel();
      if (response.status !== 202) throw new Error(`provider answered ${response.status} to a direct send`);
    }
  };
  await Promise.all(Array.from({ length: WORKER_CONNECTIONS }, worker));
  return (performance.now() - started) / 1000;
}

/**
 * A TCP relay in front of Postgres that counts the client's statements: one `Sync` ('S') per
 * extended-protocol query (what postgres.js sends) or one simple `Query` ('Q').
 */
async function countingRelay(databaseUrl: string) {
  const target = new URL(databaseUrl);
  const counts = { statements: 0, connections: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    counts.connections++;
    sockets.add(client);
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    let buffer = Buffer.alloc(0);
    let started = false;
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 4) break;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) break;
          buffer = buffer.subarray(length);
          started = true;
          continue;
        }
        if (buffer.length < 5) break;
        const length = buffer.readInt32BE(1);
        if (buffer.length < length + 1) break;
        const type = String.fromCharCode(buffer[0] as number);
        if (type === "S" || type === "Q") counts.statements++;
        buffer = buffer.subarray(length + 1);
      }
    });
    upstream.on("data", (chunk) => client.write(chunk));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

async function run(context: BenchContext): Promise<BenchmarkReport> {
  const size = context.quick ? QUICK : FULL;
  const sql = postgres(context.databaseUrl, { max: 1, fetch_types: false, onnotice: () => {} });
  const provider = await startLocalProvider({ port: 0, maxInbox: 1000 });
  const credentials = provider.credentials as unknown as Record<string, string>;
  const env = notifierEnv(context.databaseUrl, provider.url, credentials);
  try {
    // Round trips, counted over one batch (after a warm-up batch compiles the templates).
    const citizens = await seedCitizens(sql, size.events);
    let n = 0;
    const nextEvents = (count: number) =>
      Array.from({ length: count }, () => JSON.stringify(approvedEvent(citizens[n++ % citizens.length] as number, n)));
    await drain(sql, nextEvents(BATCH), env);
    const relay = await countingRelay(context.databaseUrl);
    let counted: { statements: number; connections: number; requests: number };
    try {
      const { requests } = await withFetchRecorder(0, () =>
        drain(sql, nextEvents(BATCH), notifierEnv(relay.url, provider.url, credentials)),
      );
      counted = { ...relay.counts, requests };
    } finally {
      await relay.close();
    }
    context.log(
      `round trips for a batch of ${BATCH}: ${counted.statements} SQL statements on ${counted.connections} connections, ${counted.requests} provider requests`,
    );

    // Timed runs, interleaved: notifier, direct, notifier, direct, …
    const notifierSeconds: number[] = [];
    const directSeconds: number[] = [];
    let captured: CapturedRequest[] = [];
    for (let r = 0; r < size.runs; r++) {
      context.log(`notifier: run ${r + 1} of ${size.runs}, ${size.events} events in batches of ${BATCH}`);
      const recorded = await withFetchRecorder(size.events, () => drain(sql, nextEvents(size.events), env));
      if (recorded.requests !== size.events) {
        throw new Error(`notifier made ${recorded.requests} provider requests for ${size.events} events`);
      }
      notifierSeconds.push(recorded.value.seconds);
      captured = recorded.captured;
      context.log(`notifier: ${(size.events / recorded.value.seconds).toFixed(0)} sends/s`);
      context.log(`direct: run ${r + 1} of ${size.runs}, the same ${captured.length} requests`);
      const seconds = await direct(captured);
      directSeconds.push(seconds);
      context.log(`direct: ${(captured.length / seconds).toFixed(0)} sends/s`);
    }

    // Where the time goes: one more run of each way under the V8 profiler. Handler, provider and
    // Postgres client share this process, so a profile holds both sides of every request.
    const cpu_profiles: Record<string, ProfileSummary> = {};
    context.log(`notifier: profiled run, ${size.events} events`);
    cpu_profiles.notifier = await profileCpu(async () => {
      await drain(sql, nextEvents(size.events), env);
    });
    context.log(`direct: profiled run, ${captured.length} requests`);
    cpu_profiles.direct = await profileCpu(async () => {
      await direct(captured);
    });
    for (const [name, summary] of Object.entries(cpu_profiles)) {
      const top = summary.top_self
        .slice(0, 5)
        .map((entry) => `${entry.function} ${entry.percent}%`)
        .join(", ");
      context.log(`${name}: ${summary.total_ms} ms on CPU; most self time: ${top}`);
    }
    const stats = provider.stats();
    const notifierRate = Math.round(size.events / median(notifierSeconds));
    const directRate = Math.round(captured.length / median(directSeconds));
    const perSend = {
      sql_statements: round(counted.statements / BATCH, 2),
      http_requests: round(counted.requests / BATCH, 2),
    };
    return {
      parameters: {
        provider: "scripts/local-provider.ts in this process (Hono on @hono/node-server), SendGrid Mail Send route",
        database: "local PostgreSQL over TCP (127.0.0.1), same process as the handler",
        event_type: "gov.permits.application.approved, no contact in the event (recipient from permits.citizen_refs)",
        sends_per_event: 1,
        batch_size: BATCH,
        events: size.events,
        runs: size.runs,
        direct_concurrency: WORKER_CONNECTIONS,
        handler:
          "handleNotificationBatch (workers/notifier/src/index.ts) in Node; its log lines formatted, not written",
      },
      results: {
        notifier: {
          events: size.events,
          runs: size.runs,
          seconds: notifierSeconds.map((s) => round(s, 3)),
          sends_per_second: notifierRate,
        },
        direct: {
          requests: captured.length,
          runs: size.runs,
          seconds: directSeconds.map((s) => round(s, 3)),
          sends_per_second: directRate,
        },
        round_trips: {
          batch_size: BATCH,
          sql_statements: counted.statements,
          postgres_connections: counted.connections,
          provider_requests: counted.requests,
          per_send: perSend,
        },
        cpu_profiles,
        provider_stats: { sendgrid: { accepted: stats.sendgrid.accepted, refused: stats.sendgrid.refused } },
      },
      ratios: { notifier_vs_direct: round(notifierRate / directRate, 2) },
      table: [
        rateRow(
          "notifier send rate into the local provider vs the same requests sent directly, 6 at a time (sends/s)",
          notifierRate,
          { value: directRate, label: "direct" },
          { headline: true },
        ),
        {
          figure: "notifier round trips per send (SQL statements; provider requests)",
          ours: `${perSend.sql_statements}; ${perSend.http_requests}`,
          baseline: "direct: 0; 1",
          ratio: "–",
        },
      ],
      chart: {
        title: "notifier send rate into the local provider",
        subtitle: `${size.events} emails in batches of ${BATCH}; direct: the same requests, ${WORKER_CONNECTIONS} at a time`,
        panels: [
          {
            title: "send rate, median of runs",
            unit: "sends/s",
            groups: [
              {
                label: "SendGrid Mail Send",
                bars: [
                  { label: "notifier (Worker batch path)", value: notifierRate, role: "ours" },
                  { label: "direct requests", value: directRate, role: "baseline" },
                ],
              },
            ],
          },
        ],
      },
      notes: [
        "the notifier and the provider share one Node process (and the machine's 2 cores) with Postgres; direct has no database work at all",
        "measured in Node, not workerd: a deployed Worker adds Hyperdrive's network round trips per statement, which the per-send counts show",
        "runs interleaved (notifier, direct, …); compare the rows of one run, not runs with each other",
        "cpu_profiles: one extra run of each way under the V8 profiler, handler (or direct client), provider and Postgres client in this one process: the functions with the most self and inclusive time; the notifier's includes the bench's session clean-up between batches",
      ],
    };
  } finally {
    await provider.close();
    await sql.end({ timeout: 5 });
  }
}

export const notifierBenchmark: Benchmark = {
  name: "notifier",
  title: "notifier send rate into the local provider",
  run,
};
