/**
 * Dead-letter redrive, archive replay and the admin CLI against the real stack (`npm run dev`:
 * every Worker in one `wrangler dev`, the local notification provider, Postgres), in a database
 * of its own (the rebuild empties permits.citizen_refs, which other suites share otherwise):
 *
 * 1. a notification the provider refuses is dead-lettered, listed, replayed after the provider
 *    recovers, and delivered exactly once;
 * 2. a bulk redrive of 300 dead letters at 50/s takes at least 6 s, never runs ahead of its
 *    rate, and delivers each message once (the measured rates are printed);
 * 3. an archive replay into an emptied permits.citizen_refs (`--rebuild`, through the CLI)
 *    reproduces the original rows exactly — every column except `last_synced_at`, which records
 *    when a row was written, not what it says;
 * 4. a key without the admin scope gets 403 on every admin route of the live /openapi.json.
 *
 * Needs Postgres (fails under CI=true without it). Ports 18701–18703 (engineer A's range).
 */

import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { generateApiKey, hashApiKey } from "../../workers/producer/src/auth/key-hash.ts";
import { requireService } from "../support/services.ts";
import { eventually, stackApi, stackCli, useDevStack } from "./dev-stack-process.ts";

const available = await requireService("postgres", "test/e2e/dead-letter-redrive");
const run = crypto.randomUUID().slice(0, 8);
const databaseName = `edgebus_e2e_redrive_${run}`;
const publisherKey = generateApiKey();

// biome-ignore lint/suspicious/noExplicitAny: API bodies are read field by field and asserted
type Json = Record<string, any>;

let dev: ReturnType<typeof useDevStack>;
let db: postgres.Sql;
let admin: postgres.Sql;

function databaseUrl(name: string): string {
  const url = new URL(serviceUrls.postgres);
  url.pathname = `/${name}`;
  return url.toString();
}

function api(method: string, route: string, body?: unknown, key?: string) {
  return stackApi(dev.stack.info, method, route, body, key);
}

async function provider(method: string, route: string, body?: unknown): Promise<Json> {
  const response = await fetch(`${dev.stack.info.providerUrl}${route}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return (text === "" ? {} : JSON.parse(text)) as Json;
}

/** Accepted SendGrid messages, per recipient address. */
async function acceptedEmails(): Promise<Map<string, Json[]>> {
  const { messages } = await provider("GET", "/inbox?route=sendgrid");
  const byAddress = new Map<string, Json[]>();
  for (const message of messages as Json[]) {
    if (!message.accepted) continue;
    for (const to of message.to ?? []) byAddress.set(to, [...(byAddress.get(to) ?? []), message]);
  }
  return byAddress;
}

let citizenSeq = 0;
function citizenId(): number {
  citizenSeq += 1;
  return 700_000_000 + citizenSeq;
}

/** A gov.auth.citizen.* event with an explicit time, so archive order is version order. */
function citizenEvent(type: string, id: number, version: number, data: Json, source = "/services/identity"): Json {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source,
    type,
    time: new Date(Date.UTC(2026, 10, 1, 8, 0, 0) + version * 60_000 + (id % 1000) * 10).toISOString(),
    eventversion: version,
    data,
  };
}

function created(id: number, email: string): Json {
  return citizenEvent("gov.auth.citizen.created", id, 1, {
    id,
    name: `Citizen ${id}`,
    email,
    phone: "+35312345678",
    address: { line1: `${id % 97} Harbour Road`, city: "Dublin", postal_code: "D02 X285", country: "IE" },
    email_verified: id % 2 === 0,
    identity_verified: false,
    created_at: "2026-03-14T09:21:07Z",
    preferred_language: id % 3 === 0 ? "ga" : "en",
  });
}

async function publishBatch(events: Json[]): Promise<void> {
  for (let i = 0; i < events.length; i += 100) {
    const response = await fetch(`${dev.stack.info.producer}/v1/events/batch`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${dev.stack.info.apiKey}`,
        "Content-Type": "application/cloudevents-batch+json",
      },
      body: JSON.stringify(events.slice(i, i + 100)),
    });
    const body = (await response.json()) as Json;
    expect(response.status, JSON.stringify(body).slice(0, 500)).toBe(200);
    for (const result of body.results ?? body) expect(result.status, JSON.stringify(result)).toBe(202);
  }
}

function cli(args: string[]) {
  return stackCli(dev.stack.info, args);
}

describe.skipIf(!available)("dead-letter redrive and archive replay on the real stack", () => {
  // The suite's own database first; the stack (started after it, stopped before it) runs on it.
  beforeAll(async () => {
    admin = postgres(serviceUrls.postgres, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${databaseName}`);
    db = postgres(databaseUrl(databaseName), { max: 3, onnotice: () => {} });
  });

  afterAll(async () => {
    await db?.end({ timeout: 5 });
    await admin?.unsafe(`drop database if exists ${databaseName} with (force)`).catch(() => {});
    await admin?.end({ timeout: 5 });
  }, 60_000);

  dev = useDevStack(async () => ({
    port: 18701,
    bridgePort: 18702,
    providerPort: 18703,
    env: {
      DATABASE_URL: databaseUrl(databaseName),
      EDGEBUS_DEV_EXTRA_API_KEYS: JSON.stringify([
        { id: "publisher", hash: await hashApiKey(publisherKey), sources: ["**"], types: ["**"] },
      ]),
    },
  }));

  it("a key without the admin scope gets 403 on every admin route of the live OpenAPI document", async () => {
    const document = (await (await fetch(`${dev.stack.info.producer}/openapi.json`)).json()) as Json;
    let checked = 0;
    for (const [route, operations] of Object.entries(document.paths as Record<string, Json>)) {
      for (const [method, operation] of Object.entries(operations as Record<string, Json>)) {
        if (!(operation.tags ?? []).includes("admin")) continue;
        const concrete = route.replace("{id}", route.startsWith("/v1/replay") ? `rj_${"0".repeat(32)}` : "1");
        const denied = await api(method.toUpperCase(), concrete, method === "get" ? undefined : {}, publisherKey);
        expect(denied.status, `${method} ${route}`).toBe(403);
        expect(denied.json.error.code).toBe("forbidden");
        checked++;
      }
    }
    expect(checked).toBe(8);
  });

  it("a dead-lettered notification is listed, replayed after the provider recovers, and delivered once", async () => {
    await provider("POST", "/_control/failures", { route: "sendgrid", status: 400, for_seconds: 600 });
    const id = citizenId();
    const email = `single-${run}@example.org`;
    const event = created(id, email);
    await publishBatch([event]);

    const entry = await eventually("the dead letter", async () => {
      const { json } = await api("GET", `/v1/dead-letters?queue=notifications&type=gov.auth.citizen.created`);
      return (json.dead_letters as Json[]).find((e) => e.event.id === event.id);
    });
    expect(entry).toMatchObject({
      queue: "notifications",
      consumer: "notifier",
      status: "pending",
      attempts: 1,
      error: { code: "bad_request", reason: "permanent", message: "sendgrid rejected the request (400)" },
    });
    expect((await acceptedEmails()).get(email)).toBeUndefined();

    await provider("DELETE", "/_control/failures");
    const replayed = await api("POST", `/v1/dead-letters/${entry.id}/replay`);
    expect(replayed.status).toBe(200);
    expect(replayed.json).toMatchObject({ status: "replayed", replayed_by: "dev", replay_count: 1 });
    const delivered = await eventually("the replayed email", async () => (await acceptedEmails()).get(email));
    // A second replay is refused; a while later there is still exactly one email.
    expect((await api("POST", `/v1/dead-letters/${entry.id}/replay`)).status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await acceptedEmails()).get(email)).toHaveLength(1);
    expect(delivered[0]?.duplicate).toBe(false);
    const rows = await db`
      select channel, status from edgebus.notifications where event_id = ${event.id} order by channel`;
    expect(rows).toEqual([
      { channel: "email", status: "sent" },
      { channel: "webhook", status: "sent" },
    ]);
  }, 180_000);

  it("a bulk redrive of 300 dead letters at 50/s respects the rate and delivers each once (via the CLI)", async () => {
    const count = 300;
    const rate = 50;
    const since = new Date(Date.now() - 1000).toISOString();
    await provider("POST", "/_control/failures", { route: "sendgrid", status: 400, for_seconds: 600 });
    const emails = Array.from({ length: count }, (_, i) => `bulk-${i}-${run}@example.org`);
    await publishBatch(emails.map((email) => created(citizenId(), email)));
    let matched: unknown;
    await eventually(
      `${count} pending dead letters`,
      async () => {
        const { json } = await api("POST", "/v1/dead-letters/replay", {
          queue: "notifications",
          from: since,
          dry_run: true,
        });
        matched = json.matched ?? json;
        return json.matched >= count ? json : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 2000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last count ${JSON.stringify(matched)}\n${dev.stack.output().slice(-3000)}`);
    });
    expect(matched).toBe(count);
    await provider("DELETE", "/_control/failures");

    const dry = await cli(["dlq", "replay", "--queue", "notifications", "--from", since, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`dry run: ${count} pending dead letter(s) would be replayed`);

    // Follow the job through the API while the CLI runs it, to check the send rate as it goes.
    const samples: { at: number; sent: number }[] = [];
    const redrive = cli(["dlq", "replay", "--queue", "notifications", "--from", since, "--rate", String(rate)]);
    const jobId = await eventually("the redrive job", async () => {
      const [row] = await db<{ id: string }[]>`
        select id from edgebus.replay_jobs where kind = 'dead-letters' order by created_at desc limit 1`;
      return row?.id;
    });
    let job: Json;
    do {
      job = (await api("GET", `/v1/replay/${jobId}`)).json;
      samples.push({ at: Date.now(), sent: job.sent });
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (job.status === "running");
    const result = await redrive;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/100% 300\/300 sent · 50\/s · completed/);
    expect(result.stdout).toMatch(/status\s+completed/);

    const started = Date.parse(job.created_at);
    const jobSeconds = (Date.parse(job.finished_at) - started) / 1000;
    expect(job).toMatchObject({ status: "completed", total: count, sent: count });
    expect(jobSeconds).toBeGreaterThanOrEqual(count / rate);
    // Never ahead of the rate: by any moment t, at most rate·(t − start) + one slice was sent.
    for (const sample of samples) expect(sample.sent).toBeLessThanOrEqual(rate * ((sample.at - started) / 1000) + rate);

    const byAddress = await eventually(
      `${count} delivered emails`,
      async () => {
        const accepted = await acceptedEmails();
        return emails.every((email) => accepted.has(email)) ? accepted : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const final = await acceptedEmails();
    for (const email of emails) expect(final.get(email), email).toHaveLength(1);
    const times = emails
      .map((email) => Date.parse((byAddress.get(email) as Json[])[0]?.received_at))
      .sort((a, b) => a - b);
    const deliverySeconds = ((times.at(-1) as number) - (times[0] as number)) / 1000;
    const replayedRows = await db`
      select count(*)::int as n from edgebus.dead_letters
      where queue = 'notifications' and last_failed_at >= ${since} and status = 'replayed' and replayed_by = 'dev'`;
    expect(replayedRows[0]?.n).toBe(count);
    console.log(
      `redrive: ${count} dead letters at ${rate}/s — job ${jobSeconds.toFixed(2)} s (${(count / jobSeconds).toFixed(1)} msg/s sent), ` +
        `first→last delivery ${deliverySeconds.toFixed(2)} s, ${final.size >= count ? "each delivered once" : ""}`,
    );
  }, 420_000);

  it("an archive replay into an emptied citizen_refs (rebuild, via the CLI) reproduces the original rows", async () => {
    // A history with every kind of change, applied wave by wave so the original is version order.
    const ids = Array.from({ length: 24 }, () => citizenId());
    const waves: Json[][] = [
      ids.map((id) => created(id, `history-${id}@example.org`)),
      ids
        .filter((_, i) => i % 2 === 0)
        .map((id) =>
          citizenEvent("gov.auth.citizen.updated", id, 2, {
            id,
            name: `Citizen ${id} Updated`,
            email: `moved-${id}@example.org`,
            phone: null,
            address: { line1: "1 New Street", city: "Cork", postal_code: "T12 X70A", country: "IE" },
            email_verified: false,
            identity_verified: true,
            created_at: "2026-03-14T09:21:07Z",
            updated_at: "2026-05-02T16:40:00Z",
            changes: { email: { old: `history-${id}@example.org`, new: `moved-${id}@example.org` } },
          }),
        ),
      ids
        .filter((_, i) => i % 3 !== 2)
        .map((id, i) =>
          citizenEvent("gov.auth.citizen.verified", id, 3, {
            id,
            verification_type: (["email", "identity", "phone", "address"] as const)[i % 4],
            verified_by: "EMP-000412",
            verification_method: "document_check",
            document_reference: `DOC-${id}`,
            verified_at: "2026-06-01T10:00:00Z",
          }),
        ),
      ids
        .filter((_, i) => i % 5 === 0)
        .map((id) =>
          citizenEvent("gov.auth.citizen.deleted", id, 4, {
            id,
            deleted_at: "2026-09-30T08:00:00Z",
            reason: "citizen_request",
            deleted_by: "system",
          }),
        ),
    ];
    for (const [index, wave] of waves.entries()) {
      await publishBatch(wave);
      const version = index + 1;
      await eventually(
        `wave ${version} applied`,
        async () => {
          const [row] = await db<{ n: number }[]>`
            select count(*)::int as n from permits.citizen_refs
            where citizen_id in ${db(ids)} and event_version >= ${version}`;
          // Only this wave's citizens reach its version.
          return row?.n === wave.length ? row : undefined;
        },
        { timeoutMs: 120_000 },
      );
    }
    const citizenEvents = await eventually("every citizen event archived", async () => {
      const [row] = await db<{ archived: number; applied: number }[]>`
        select (select count(*)::int from edgebus.event_archive where type like 'gov.auth.citizen.%') as archived,
               (select count(*)::int from edgebus.processed_events where consumer = 'citizen-sync:permits') as applied`;
      return row && row.archived === row.applied ? row.archived : undefined;
    });

    const snapshot = () =>
      db`
      select * from permits.citizen_refs order by citizen_id`.then((rows) =>
        rows.map(({ last_synced_at: _written, ...row }) => row),
      );
    const original = await snapshot();
    expect(original.length).toBeGreaterThan(300);
    expect(original.filter((row) => row.deleted_at !== null).length).toBe(5);

    const rebuilt = await cli([
      "replay",
      "--type",
      "gov.auth.citizen.*",
      "--from",
      "2000-01-01T00:00:00Z",
      "--queue",
      "permits-citizen-sync",
      "--rebuild",
    ]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(
      new RegExp(
        `rebuild: emptied the read model \\(${original.length} rows\\) and its consumer's ledger \\(${citizenEvents} rows\\)`,
      ),
    );
    expect(rebuilt.stdout).toMatch(new RegExp(`100% ${citizenEvents}/${citizenEvents} sent`));

    const replayed = await eventually(
      "the rebuilt read model",
      async () => {
        const [row] = await db<{ n: number }[]>`
          select count(*)::int as n from edgebus.processed_events where consumer = 'citizen-sync:permits'`;
        return row?.n === citizenEvents ? snapshot() : undefined;
      },
      { timeoutMs: 120_000 },
    );
    expect(replayed).toEqual(original);
  }, 420_000);
});
