/**
 * `POST /v1/mirror` on the lean route answers exactly as the Hono route: the same signed (and
 * unsigned, forged, replayed, malformed, oversized) requests sent to the mirror served with and
 * without the lean route give the same status, headers and body, byte for byte, and hand the
 * same events to the targets. The targets are stand-ins with predictable receipts; the Kafka
 * target behind the lean route is exercised by the bridge's suites (bridges/server.ts serves it).
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError } from "#shared/errors.ts";
import { MIRROR_PATH } from "#shared/mirror-protocol.ts";
import { NONCE_HEADER, signMirrorRequest } from "#shared/mirror-signature.ts";
import { type RawRequest, rawRequest, type ServedPair, servePair } from "../../test/support/lean-and-hono.ts";
import { BodyBudget, closeUnreadBodies } from "../http/bounded-body.ts";
import { createMirrorLeanRoute, createMirrorRoute, type MirrorRouteOptions } from "./mirror-route.ts";
import type { DeliveryOutcome, MirrorDelivery, MirrorTarget } from "./targets/mirror-target.ts";
import { TopicMapping } from "./topic-mapping.ts";

const secret = "mirror-lean-test-secret";

/** Offsets numbered per topic from 0; events whose id starts with `down-` fail as a broker outage would. */
class StandInTarget implements MirrorTarget {
  readonly kind = "kafka" as const;
  readonly name = "kafka";
  readonly mapping = new TopicMapping({ exclude: ["gov.ignored.thing"] });
  readonly connected = true;
  saturated = false;
  readonly delivered: string[] = [];
  readonly #next = new Map<string, number>();

  async deliver(deliveries: readonly MirrorDelivery[]): Promise<DeliveryOutcome[]> {
    return deliveries.map(({ event, topic }) => {
      if (event.id.startsWith("down-")) {
        return { ok: false, error: new EdgebusError("upstream_unavailable", "Kafka is unavailable: produce failed") };
      }
      this.delivered.push(`${topic} ${event.id}`);
      const offset = this.#next.get(topic) ?? 0;
      this.#next.set(topic, offset + 1);
      return { ok: true, receipt: { topic, partition: 0, offset } };
    });
  }

  async probe(): Promise<void> {}
  async close(): Promise<void> {}
}

function mirror(bodyBudgetBytes?: number): { app: Hono; options: MirrorRouteOptions; target: StandInTarget } {
  const target = new StandInTarget();
  const options: MirrorRouteOptions = {
    targets: [target],
    secret,
    maxBodyBytes: 4096,
    ...(bodyBudgetBytes === undefined ? {} : { bodyBudget: new BodyBudget(bodyBudgetBytes) }),
  };
  // As the bridge mounts it (bridges/server.ts): unread bodies closed first, the mirror at /.
  const app = new Hono().use("*", closeUnreadBodies).route("/", createMirrorRoute(options));
  return { app, options, target };
}

function event(i: number, overrides: Partial<CloudEventRecord> = {}): CloudEventRecord {
  return {
    specversion: "1.0",
    id: `evt-${i}`,
    source: "/gov/auth",
    type: "gov.auth.citizen.updated",
    time: "2026-11-22T08:00:00Z",
    datacontenttype: "application/json",
    data: { citizenId: `c-${i}`, name: "Ana ș 🙂" },
    partitionkey: `c-${i}`,
    ...overrides,
  };
}

/** A signed request; the same request (same nonce) goes to both servers, which keep separate nonces. */
async function signed(body: string, headers: Record<string, string> = {}): Promise<RawRequest> {
  return {
    method: "POST",
    path: MIRROR_PATH,
    headers: {
      "content-type": "application/json",
      "x-request-id": "req-1",
      ...(await signMirrorRequest(secret, body)),
      ...headers,
    },
    body,
  };
}

describe("mirror ingest: lean route and Hono route answer alike", () => {
  let pair: ServedPair;
  let budgeted: ServedPair;
  let saturated: ServedPair;
  const leanAnswers: string[] = [];
  let honoTarget: StandInTarget;
  let leanTarget: StandInTarget;

  beforeAll(async () => {
    const hono = mirror();
    const lean = mirror();
    honoTarget = hono.target;
    leanTarget = lean.target;
    pair = await servePair(hono.app, lean.app, [createMirrorLeanRoute(lean.options)], {
      onAnswered: (path) => leanAnswers.push(path),
    });
    const [tightHono, tightLean] = [mirror(64), mirror(64)];
    budgeted = await servePair(tightHono.app, tightLean.app, [createMirrorLeanRoute(tightLean.options)]);
    const [fullHono, fullLean] = [mirror(), mirror()];
    fullHono.target.saturated = true;
    fullLean.target.saturated = true;
    saturated = await servePair(fullHono.app, fullLean.app, [createMirrorLeanRoute(fullLean.options)]);
  });
  afterAll(async () => {
    await pair?.close();
    await budgeted?.close();
    await saturated?.close();
  });

  const same = async (spec: RawRequest, served: ServedPair = pair) => {
    const before = leanAnswers.length;
    const [viaHono, viaLean] = [await rawRequest(served.hono, spec), await rawRequest(served.lean, spec)];
    expect(viaLean).toEqual(viaHono);
    return { answer: viaLean, servedLean: leanAnswers.length > before };
  };

  it("a batch: per-event results (acked, not kept, invalid, failed), the same events delivered", async () => {
    const events = [
      event(1),
      event(2, { type: "gov.ignored.thing.happened" }),
      { ...event(3), specversion: "0.3" },
      event(4, { id: "down-4" }),
      event(5),
    ];
    const { answer, servedLean } = await same(await signed(JSON.stringify({ events })));
    expect(servedLean).toBe(true);
    expect(answer.status).toBe(200);
    const { results } = JSON.parse(answer.body) as { results: { status: string }[] };
    expect(results.map((r) => r.status)).toEqual(["acked", "acked", "failed", "failed", "acked"]);
    expect(leanTarget.delivered).toEqual(honoTarget.delivered);
    expect(leanTarget.delivered).toEqual(["gov.auth.citizen evt-1", "gov.auth.citizen evt-5"]);
  });

  it("401 unsigned, forged or stale, before the body is read", async () => {
    const body = JSON.stringify({ events: [event(1)] });
    expect(
      (await same({ method: "POST", path: MIRROR_PATH, headers: { "x-request-id": "r" }, body })).answer.status,
    ).toBe(401);
    const forged = await signed(body);
    expect((await same({ ...forged, body: JSON.stringify({ events: [event(2)] }) })).answer.status).toBe(401);
    const stale = await signed(body, { "x-edgebus-timestamp": "1000000000" });
    expect((await same(stale)).answer.status).toBe(401);
    // Repeated signature headers are joined (as web Headers join them) and so refused alike.
    const request = await signed(body);
    const nonce = (request.headers as Record<string, string>)[NONCE_HEADER] as string;
    expect(
      (await same({ ...request, headers: { ...request.headers, [NONCE_HEADER]: [nonce, nonce] } as never })).answer
        .status,
    ).toBe(401);
  });

  it("409 for a replayed nonce", async () => {
    const request = await signed(JSON.stringify({ events: [event(7)] }));
    expect((await same(request)).answer.status).toBe(200);
    expect((await same(request)).answer.status).toBe(409);
  });

  it("400 for malformed JSON and a body that is not {events: [1..100]}, with details", async () => {
    expect((await same(await signed("{nope"))).answer.status).toBe(400);
    const empty = await same(await signed(JSON.stringify({ events: [] })));
    expect(empty.answer.status).toBe(400);
    expect(JSON.parse(empty.answer.body)).toMatchObject({ error: { code: "bad_request" } });
    expect((await same(await signed(JSON.stringify([event(1)])))).answer.status).toBe(400);
  });

  it("413 over maxBodyBytes, closing the connection; 429 when the budget is spent; 503 when the target is full", async () => {
    const big = await same(await signed(JSON.stringify({ events: [event(1, { data: "x".repeat(5000) })] })));
    expect(big.answer.status).toBe(413);
    expect(big.answer.headers).toContainEqual(["connection", "close"]);
    const spent = await same(await signed(JSON.stringify({ events: [event(1)] })), budgeted);
    expect(spent.answer.status).toBe(429);
    expect(spent.answer.headers).toContainEqual(["retry-after", "1"]);
    const full = await same(await signed(JSON.stringify({ events: [event(1)] })), saturated);
    expect(full.answer.status).toBe(503);
    expect(full.answer.headers).toContainEqual(["retry-after", "1"]);
  });

  it("other methods and paths still reach the Hono app", async () => {
    const get = await same({ method: "GET", path: MIRROR_PATH });
    expect(get.servedLean).toBe(false);
    const elsewhere = await same({ ...(await signed(JSON.stringify({ events: [event(1)] }))), path: "/v1/mirror/" });
    expect(elsewhere.servedLean).toBe(false);
  });
});
