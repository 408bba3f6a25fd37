/**
 * The admin API inside workerd with the real bindings of wrangler.toml: Postgres through the
 * Hyperdrive binding (the migrated test database), the real queue producer bindings and the real
 * ReplayJobRunner Durable Object with its alarms. Delivery to the consumers is proven end to end
 * in test/e2e/dead-letter-redrive.test.ts; here: access, validation, listing, state changes and
 * job progress.
 */
import { env as workerEnv } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { openDatabase } from "#shared/db/client.ts";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import { archiveEvents } from "../../../archive/src/event-archive-store.ts";
import { type DeadLetterRecord, recordDeadLetters } from "../../../dead-letter/src/dead-letters-store.ts";
import { createProducerApp } from "../app.ts";
import { renderOpenApi } from "../producer-routes.ts";
import { bearer, mintKey, type ResponseJson, testEnv } from "../producer-test-harness.ts";

const available = inject("postgresAvailable");
const admin = await mintKey({ id: "ops-admin", admin: true, sources: [], types: [] });
const publisher = await mintKey({ id: "publisher-only", sources: ["**"], types: ["**"] });
const env = testEnv([admin, publisher], { REPLAY_RATE_PER_SECOND: "20" });
const app = createProducerApp();
const sql = () => openDatabase((workerEnv as unknown as { HYPERDRIVE: Hyperdrive }).HYPERDRIVE.connectionString);

async function call(method: string, path: string, key = admin, body?: unknown) {
  const response = await app.request(
    path,
    {
      method,
      headers: { ...bearer(key), ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    },
    env,
  );
  return { status: response.status, headers: response.headers, json: (await response.json()) as ResponseJson };
}

function letter(consumer: string, i: number, queue = "notifications"): DeadLetterRecord {
  const id = crypto.randomUUID();
  return {
    queue,
    consumer,
    eventSource: "/services/admin-test",
    eventId: id,
    eventType: "gov.auth.citizen.created",
    messageId: `m-${i}`,
    event: {
      specversion: "1.0",
      id,
      source: "/services/admin-test",
      type: "gov.auth.citizen.created",
      time: "2026-11-20T10:00:00Z",
      data: governmentCatalogue.require("gov.auth.citizen.created").example,
    },
    errorCode: "bad_request",
    errorType: "EdgebusError",
    errorMessage: "sendgrid rejected the request (400)",
    errorDetails: { provider: "sendgrid", status: 400 },
    failureReason: "permanent",
    attempts: 1,
    failedAt: new Date(Date.UTC(2026, 10, 20, 10, 0, i)).toISOString(),
  };
}

async function untilFinished(id: string, timeoutMs = 20_000): Promise<ResponseJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await call("GET", `/v1/replay/${id}`);
    if (json.status !== "running" || Date.now() > deadline) return json;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("admin routes: access", () => {
  const document = renderOpenApi(governmentCatalogue) as {
    paths: Record<string, Record<string, { tags?: string[] }>>;
  };
  const adminOperations = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([, operation]) => operation.tags?.includes("admin"))
      .map(([method, _]) => ({
        method: method.toUpperCase(),
        path: path.replace("/v1/dead-letters/{id}", "/v1/dead-letters/1").replace("{id}", `rj_${"0".repeat(32)}`),
      })),
  );

  it("the OpenAPI document lists every admin route", () => {
    expect(adminOperations.map((o) => `${o.method} ${o.path}`).sort()).toEqual(
      [
        "GET /v1/dead-letters",
        "POST /v1/dead-letters/replay",
        "GET /v1/dead-letters/1",
        "DELETE /v1/dead-letters/1",
        "POST /v1/dead-letters/1/replay",
        "POST /v1/replay",
        `GET /v1/replay/rj_${"0".repeat(32)}`,
        `DELETE /v1/replay/rj_${"0".repeat(32)}`,
      ].sort(),
    );
  });

  it("answers 403 to a key without the admin scope and 401 without a key, on every admin route", async () => {
    for (const { method, path } of adminOperations) {
      const denied = await call(method, path, publisher, method === "GET" ? undefined : { reason: "x" });
      expect(denied.status, `${method} ${path}`).toBe(403);
      expect(denied.json.error).toMatchObject({
        code: "forbidden",
        message: "API key publisher-only lacks the admin scope",
      });
      expect(denied.json.error.request_id).toMatch(/.+/);
      const anonymous = await app.request(path, { method }, env);
      expect(anonymous.status, `${method} ${path}`).toBe(401);
    }
  });
});

describe("admin routes: deployment without the admin bindings", () => {
  it("answers 503 naming the missing binding, in the error shape", async () => {
    const noDatabase = testEnv([admin], { HYPERDRIVE: undefined });
    const list = await app.request("/v1/dead-letters", { headers: bearer(admin) }, noDatabase);
    expect(list.status).toBe(503);
    expect(((await list.json()) as ResponseJson).error).toMatchObject({
      code: "upstream_unavailable",
      message: "the admin API needs Postgres: bind HYPERDRIVE in wrangler.toml",
    });
    const noRunner = testEnv([admin], { REPLAY_JOBS: undefined });
    const job = await app.request(
      "/v1/replay",
      {
        method: "POST",
        headers: { ...bearer(admin), "Content-Type": "application/json" },
        body: JSON.stringify({ type: "gov.*", from: "2026-01-01T00:00:00Z", queue: "archive" }),
      },
      noRunner,
    );
    expect(job.status).toBe(503);
    expect(((await job.json()) as ResponseJson).error.message).toMatch(/REPLAY_JOBS/);
  });

  it("refuses a REPLAY_RATE_PER_SECOND outside 1–1000 at the boundary", async () => {
    const response = await app.request("/healthz", {}, testEnv([admin], { REPLAY_RATE_PER_SECOND: "5000" }));
    expect(response.status).toBe(500);
    expect(((await response.json()) as ResponseJson).error.message).toMatch(/REPLAY_RATE_PER_SECOND/);
  });
});

describe.skipIf(!available)("admin routes: dead letters (real Postgres)", () => {
  it("lists with filters and cursor pages, shows one entry with its body", async () => {
    const consumer = `admin-test-${crypto.randomUUID()}`;
    await recordDeadLetters(sql(), [letter(consumer, 0), letter(consumer, 1), letter(consumer, 2, "archive")]);
    const first = await call("GET", `/v1/dead-letters?consumer=${consumer}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.json.dead_letters).toHaveLength(2);
    expect(first.json.dead_letters[0]).toMatchObject({
      consumer,
      queue: "archive",
      status: "pending",
      attempts: 1,
      error: { code: "bad_request", type: "EdgebusError", reason: "permanent" },
    });
    const second = await call("GET", `/v1/dead-letters?consumer=${consumer}&limit=2&cursor=${first.json.next_cursor}`);
    expect(second.json.dead_letters).toHaveLength(1);
    expect(second.json.next_cursor).toBeNull();
    const notifications = await call("GET", `/v1/dead-letters?consumer=${consumer}&queue=notifications`);
    expect(notifications.json.dead_letters).toHaveLength(2);

    const id = second.json.dead_letters[0].id;
    const detail = await call("GET", `/v1/dead-letters/${id}`);
    expect(detail.json.body).toMatchObject({ type: "gov.auth.citizen.created", source: "/services/admin-test" });
  });

  it("replays one entry (who/when recorded), refuses a second replay, discards with a reason", async () => {
    const consumer = `admin-test-${crypto.randomUUID()}`;
    await recordDeadLetters(sql(), [letter(consumer, 0), letter(consumer, 1)]);
    const [a, b] = (await call("GET", `/v1/dead-letters?consumer=${consumer}`)).json.dead_letters;

    const replayed = await call("POST", `/v1/dead-letters/${a.id}/replay`);
    expect(replayed.status).toBe(200);
    expect(replayed.json).toMatchObject({ id: a.id, status: "replayed", replayed_by: "ops-admin", replay_count: 1 });
    const again = await call("POST", `/v1/dead-letters/${a.id}/replay`);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: "conflict", details: { status: "replayed" } });

    const noReason = await call("DELETE", `/v1/dead-letters/${b.id}`);
    expect(noReason.status).toBe(400);
    const discarded = await call("DELETE", `/v1/dead-letters/${b.id}`, admin, { reason: "test data" });
    expect(discarded.json).toMatchObject({
      status: "discarded",
      discarded_by: "ops-admin",
      discarded_reason: "test data",
    });
    expect((await call("DELETE", `/v1/dead-letters/${b.id}?reason=again`)).status).toBe(409);
    expect((await call("POST", `/v1/dead-letters/${b.id}/replay`)).status).toBe(409);
    expect((await call("GET", "/v1/dead-letters/999999999999")).status).toBe(404);
    expect((await call("GET", "/v1/dead-letters/abc")).status).toBe(404);
  });

  it("bulk redrive: dry run counts and samples, the job replays at the requested rate", async () => {
    const consumer = `admin-test-${crypto.randomUUID()}`;
    await recordDeadLetters(
      sql(),
      Array.from({ length: 6 }, (_, i) => letter(consumer, i, i < 4 ? "notifications" : "permits-citizen-sync")),
    );
    const dry = await call("POST", "/v1/dead-letters/replay", admin, { consumer, dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({
      dry_run: true,
      matched: 6,
      by_queue: { notifications: 4, "permits-citizen-sync": 2 },
    });
    expect(dry.json.sample).toHaveLength(6);
    expect((await call("GET", `/v1/dead-letters?consumer=${consumer}`)).json.dead_letters).toHaveLength(6);

    const started = Date.now();
    const created = await call("POST", "/v1/dead-letters/replay", admin, { consumer, rate_per_second: 3 });
    expect(created.status).toBe(202);
    expect(created.headers.get("location")).toBe(`/v1/replay/${created.json.job.id}`);
    expect(created.json.job).toMatchObject({ kind: "dead-letters", status: "running", total: 6, rate_per_second: 3 });
    const finished = await untilFinished(created.json.job.id);
    // 6 messages at 3/s: two slices, each followed by a second's pause, then completion.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(finished).toMatchObject({ status: "completed", sent: 6, remaining: 0, progress: 1 });
    const after = await call("GET", `/v1/dead-letters?consumer=${consumer}&status=replayed`);
    expect(after.json.dead_letters).toHaveLength(6);
    expect(after.json.dead_letters.every((e: ResponseJson) => e.replayed_by === "ops-admin")).toBe(true);
  });

  it("refuses bad input with 400 and the reason", async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ["GET", "/v1/dead-letters?queue=nope", undefined, /queue/],
      ["GET", "/v1/dead-letters?cursor=garbage", undefined, /cursor/],
      ["GET", "/v1/dead-letters?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", undefined, /from/],
      ["GET", "/v1/dead-letters?colour=red", undefined, /colour/],
      // Postgres text cannot hold NUL: refused at the boundary, not a database error (found by the admin fuzz).
      ["GET", "/v1/dead-letters?error_code=a%00b", undefined, /error_code.*NUL/],
      ["GET", "/v1/dead-letters?consumer=%00", undefined, /consumer.*NUL/],
      ["POST", "/v1/dead-letters/replay", { error_type: "x\u0000", dry_run: true }, /error_type.*NUL/],
      ["POST", "/v1/dead-letters/replay", { rate_per_second: 21 }, /limit of 20/],
      ["POST", "/v1/dead-letters/replay", "{", /JSON/],
      ["POST", "/v1/dead-letters/replay", "", /without a filter/],
      ["POST", "/v1/dead-letters/replay", { rate_per_second: 5 }, /"all": true/],
      ["POST", "/v1/replay", { type: "gov.*", from: "2026-01-01T00:00:00Z", queue: "mystery" }, /queue/],
      ["POST", "/v1/replay", { type: "gov.*", queue: "archive" }, /from/],
      [
        "POST",
        "/v1/replay",
        { type: "gov.*", from: "2026-01-01T00:00:00Z", queue: "notifications", rebuild: true },
        /rebuildable/,
      ],
    ];
    for (const [method, path, body, message] of cases) {
      const { status, json } = await call(method, path, admin, body);
      expect(status, `${method} ${path}`).toBe(400);
      expect(json.error.message, `${method} ${path}`).toMatch(message);
    }
    expect((await call("GET", `/v1/replay/rj_${"0".repeat(32)}`)).status).toBe(404);
    expect((await call("GET", "/v1/replay/nope")).status).toBe(404);
  });
});

describe.skipIf(!available)("admin routes: archive replay (real Postgres)", () => {
  it("dry run counts the window; the job replays it and reports progress; cancel stops a job", async () => {
    const domain = `t${crypto.randomUUID().replaceAll("-", "")}`;
    const events = Array.from({ length: 5 }, (_, i) => ({
      specversion: "1.0" as const,
      id: crypto.randomUUID(),
      source: "/services/admin-test",
      type: `gov.${domain}.thing.created`,
      time: new Date(Date.UTC(2026, 10, 20, 9, i)).toISOString(),
      data: {},
    }));
    await archiveEvents(sql(), events);
    const request = {
      type: `gov.${domain}.*`,
      from: "2026-11-20T09:01:00Z",
      to: "2026-11-20T09:05:00Z",
      queue: "kafka-mirror",
    };
    const dry = await call("POST", "/v1/replay", admin, { ...request, dry_run: true });
    expect(dry.json).toMatchObject({ dry_run: true, matched: 4 });
    expect(dry.json.sample.map((e: ResponseJson) => e.id)).toEqual(events.slice(1).map((e) => e.id));

    const created = await call("POST", "/v1/replay", admin, { ...request, rate_per_second: 10 });
    expect(created.status).toBe(202);
    expect(created.json.job).toMatchObject({
      kind: "archive",
      queue: "kafka-mirror",
      total: 4,
      requested_by: "ops-admin",
    });
    expect(await untilFinished(created.json.job.id)).toMatchObject({ status: "completed", sent: 4 });
    expect((await call("DELETE", `/v1/replay/${created.json.job.id}`)).status).toBe(409);

    const slow = await call("POST", "/v1/replay", admin, { ...request, rate_per_second: 1 });
    const cancelled = await call("DELETE", `/v1/replay/${slow.json.job.id}`);
    expect(cancelled.json).toMatchObject({ status: "cancelled" });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await call("GET", `/v1/replay/${slow.json.job.id}`)).json.sent).toBeLessThanOrEqual(1);
  });
});
