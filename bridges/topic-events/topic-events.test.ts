/**
 * The latest events and the live stream of a topic, through a real bridge (startBridge) against the
 * real broker: credentials (401, 403), CloudEvents decoded from binary and structured records,
 * an event on the stream within 2 s (SSE and WebSocket), resuming with Last-Event-ID without a gap
 * or a repeat, type/source filters, heartbeats, the stream cap (503) and a slow reader dropped with
 * a reason.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { openEventStream, type SseConnection } from "../../test/support/event-stream-client.ts";
import { requireService } from "../../test/support/services.ts";
import { parseBridgeConfig } from "../config.ts";
import { type RunningBridge, startBridge } from "../server.ts";

const available = await requireService("kafka", "topic events and streams");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const topic = `te-${run}.gov.auth.citizen`;
const bulky = `te-${run}.bulky`;
const hidden = `te-${run}-hidden.audit`;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const ADMIN = basic("admin", "admin-password-000001");
const READER = basic("reader", "reader-password-00001");
const WRONG = basic("reader", "not-the-password-0001");

interface Ce {
  specversion: string;
  id: string;
  source: string;
  type: string;
  time: string;
  eventversion?: number;
  partitionkey?: string;
  datacontenttype?: string;
  data?: unknown;
}

const event = (n: number, type = "gov.auth.citizen.created", source = "/services/identity"): Ce => ({
  specversion: "1.0",
  id: `${run}-${n}`,
  source,
  type,
  time: new Date().toISOString(),
  eventversion: 1,
  partitionkey: `citizen-${n % 7}`,
  data: { n },
});

/** A binary-mode record as the producer writes it: ce_* headers, data as the value. */
function binaryRecord(target: string, e: Ce) {
  const headers = Object.entries(e)
    .filter(([name]) => name !== "data")
    .map(([name, value]) => ({ key: `ce_${name}`, value: typeof value === "string" ? value : JSON.stringify(value) }));
  return { topic: target, key: e.partitionkey, value: JSON.stringify(e.data), headers };
}

describe.runIf(available)("topic events and streams", () => {
  let bridge: RunningBridge;
  let metricsText = async () => (await fetch(`${bridge.url}/metrics`)).text();
  const produce = async (records: unknown[]) => {
    const answer = await fetch(`${bridge.url}/kafka/produce`, {
      method: "POST",
      headers: { authorization: ADMIN, "content-type": "application/json" },
      body: JSON.stringify(records),
    });
    expect(answer.status, await answer.clone().text()).toBe(200);
    return (await answer.json()) as { partition: number; offset: number }[];
  };
  const ids = (c: SseConnection) =>
    c.messages.filter((m) => m.event === "message").map((m) => (JSON.parse(m.data) as Ce).id);

  beforeAll(async () => {
    bridge = await startBridge(
      parseBridgeConfig({
        port: 0,
        kafka: {
          brokers: serviceUrls.kafkaBrokers,
          clientId: `te-${run}`,
          requestTimeoutMs: 10_000,
          topics: { createPatterns: [`te-${run}*`], defaultPartitions: 3 },
        },
        kafkaRest: {
          username: "admin",
          password: "admin-password-000001",
          credentials: [{ username: "reader", password: "reader-password-00001", fetch: [`te-${run}.*`] }],
        },
        redisRest: { enabled: false },
        metrics: { kafka: { enabled: false } },
        topicEvents: {
          maxStreams: 6,
          heartbeatSeconds: 1,
          maxBufferedBytes: 65_536,
          pollWaitMs: 200,
          closeGraceMs: 10_000,
        },
      }),
    );
    metricsText = async () => (await fetch(`${bridge.url}/metrics`)).text();
    await produce([
      { topic: hidden, value: "x" },
      { topic: bulky, value: "x" },
    ]);
  }, 60_000);
  afterAll(async () => bridge?.close());

  it("refuses a wrong credential (401) and a topic outside the login's fetch patterns (403) on every route", async () => {
    const get = (path: string, auth: string, headers: Record<string, string> = {}) =>
      fetch(`${bridge.url}${path}`, { headers: { authorization: auth, ...headers } });
    const wrong = await get(`/v1/topics/${topic}/events`, WRONG);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect((await get(`/v1/topics/${topic}/events`, "")).status).toBe(401);
    const outside = await get(`/v1/topics/${hidden}/events`, READER);
    expect(outside.status).toBe(403);
    expect(((await outside.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    expect((await get(`/v1/topics/${hidden}/stream`, WRONG, { accept: "text/event-stream" })).status).toBe(401);
    expect((await get(`/v1/topics/${hidden}/stream`, READER, { accept: "text/event-stream" })).status).toBe(403);
    // The admin login may read it: the topic exists, the refusal was the scope.
    expect((await get(`/v1/topics/${hidden}/events`, ADMIN)).status).toBe(200);
    const upgrade = (auth: string, target: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${bridge.url.replace("http", "ws")}/v1/topics/${target}/stream`, {
          headers: { authorization: auth },
        });
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => {
          ws.close();
          resolve(101);
        });
        ws.on("error", () => undefined);
      });
    expect(await upgrade(WRONG, topic)).toBe(401);
    expect(await upgrade(READER, hidden)).toBe(403);
  });

  it("answers the newest events of a topic as structured CloudEvents, binary and structured records alike", async () => {
    const binary = event(1);
    const structured = { ...event(2), datacontenttype: "application/json" };
    const receipts = await produce([
      binaryRecord(topic, binary),
      {
        topic,
        key: structured.partitionkey,
        value: JSON.stringify(structured),
        headers: [{ key: "content-type", value: "application/cloudevents+json" }],
      },
      { topic, value: "not an event" },
    ]);
    const answer = await fetch(`${bridge.url}/v1/topics/${topic}/events?limit=100`, {
      headers: { authorization: READER },
    });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as {
      topic: string;
      truncated: boolean;
      events: { partition: number; offset: number; event?: Ce; error?: string }[];
    };
    expect(body.topic).toBe(topic);
    expect(body.truncated).toBe(false);
    expect(body.events).toHaveLength(3);
    const byId = new Map(body.events.filter((e) => e.event).map((e) => [e.event?.id, e]));
    // eventversion is an integer again; the binary record gets the data's JSON back.
    expect(byId.get(binary.id)?.event).toEqual(binary);
    expect(byId.get(structured.id)?.event).toEqual(structured);
    expect(byId.get(binary.id)).toMatchObject({ partition: receipts[0]?.partition, offset: receipts[0]?.offset });
    expect(body.events.find((e) => !e.event)?.error).toMatch(/not a CloudEvent/);

    // limit, and paging one partition from an offset.
    const one = (await (
      await fetch(`${bridge.url}/v1/topics/${topic}/events?limit=1`, { headers: { authorization: READER } })
    ).json()) as { events: unknown[] };
    expect(one.events).toHaveLength(1);
    const first = receipts[0] as { partition: number; offset: number };
    const paged = (await (
      await fetch(
        `${bridge.url}/v1/topics/${topic}/events?partition=${first.partition}&from_offset=${first.offset}&limit=1`,
        {
          headers: { authorization: READER },
        },
      )
    ).json()) as { events: { offset: number; event: Ce }[]; next_offset: number };
    expect(paged.events.map((e) => e.event.id)).toEqual([binary.id]);
    expect(paged.next_offset).toBe(first.offset + 1);
    const tooMany = await fetch(`${bridge.url}/v1/topics/${topic}/events?limit=101`, {
      headers: { authorization: READER },
    });
    expect(tooMany.status).toBe(400);
    const unknown = await fetch(`${bridge.url}/v1/topics/te-${run}.nothing/events`, {
      headers: { authorization: READER },
    });
    expect(unknown.status).toBe(404);
  });

  it("streams a produced event within 2 s over SSE and WebSocket, filtered by type and source globs", async () => {
    const sse = await openEventStream(
      `${bridge.url}/v1/topics/${topic}/stream?type=gov.auth.*&source=/services/identity`,
      {
        authorization: READER,
      },
    );
    expect(sse.status).toBe(200);
    await sse.until((c) => c.lastEventId !== "", 5000, "the opening id");
    const received: unknown[] = [];
    const ws = new WebSocket(
      `${bridge.url.replace("http", "ws")}/v1/topics/${topic}/stream?type=gov.permits.*&source=/services/*`,
      {
        headers: { authorization: READER },
      },
    );
    ws.on("message", (data) => received.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    // Give the stream a round of the shared read loop to join it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      const sentAt = Date.now();
      const wanted = event(10);
      await produce([
        binaryRecord(topic, event(11, "gov.permits.permit.issued")),
        binaryRecord(topic, event(12, "gov.auth.citizen.created", "/services/other")),
        binaryRecord(topic, wanted),
      ]);
      await sse.until((c) => ids(c).includes(wanted.id), 2000, "the event on the SSE stream");
      const sseLatency = Date.now() - sentAt;
      const deadline = Date.now() + 2000;
      while (!received.some((m) => (m as { event: Ce }).event.id === `${run}-11`) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(Date.now() - sentAt).toBeLessThan(2000);
      expect(sseLatency).toBeLessThan(2000);
      // Each filter let only its own through.
      expect(ids(sse)).toEqual([wanted.id]);
      const message = sse.messages.find((m) => m.event === "message");
      expect(JSON.parse(message?.data ?? "{}")).toEqual(wanted);
      expect(message?.id).toMatch(/^\d+:\d+(,\d+:-?\d+)*$/);
      expect(received.map((m) => (m as { event: Ce }).event.id)).toEqual([`${run}-11`]);
      expect(received[0]).toMatchObject({ topic, partition: expect.any(Number), offset: expect.any(Number) });
      // Heartbeats: an SSE comment every second (the setting), and the id moved past filtered records.
      const before = sse.comments.filter((c) => c === "heartbeat").length;
      await sse.until((c) => c.comments.filter((x) => x === "heartbeat").length > before, 3000, "a heartbeat");
      expect(await metricsText()).toMatch(/edgebus_bridge_streams_open\{protocol="ws"\} 1/);
    } finally {
      sse.close();
      ws.close();
    }
  });

  it("resumes from Last-Event-ID (SSE) and last_event_id (WebSocket) missing nothing and repeating nothing", async () => {
    const first = await openEventStream(`${bridge.url}/v1/topics/${topic}/stream`, { authorization: READER });
    await first.until((c) => c.lastEventId !== "", 5000, "the opening id");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const batch = Array.from({ length: 30 }, (_, i) => event(100 + i));
    await produce(batch.slice(0, 15).map((e) => binaryRecord(topic, e)));
    await first.until((c) => ids(c).length >= 5, 5000, "five events");
    first.close();
    const seen = ids(first);
    const resumeFrom = first.lastEventId;
    // Written while no client is connected.
    await produce(batch.slice(15).map((e) => binaryRecord(topic, e)));
    const again = await openEventStream(`${bridge.url}/v1/topics/${topic}/stream`, {
      authorization: READER,
      "last-event-id": resumeFrom,
    });
    expect(again.status).toBe(200);
    const all = batch.map((e) => e.id);
    await again.until((c) => seen.length + ids(c).length >= all.length, 5000, "the rest of the events");
    await new Promise((resolve) => setTimeout(resolve, 500));
    again.close();
    const combined = [...seen, ...ids(again)];
    expect(new Set(combined).size, "no event twice").toBe(combined.length);
    expect([...combined].sort()).toEqual([...all].sort());

    // The WebSocket resumes from the id of the SSE's fifth event as well.
    const fifth = first.messages.filter((m) => m.event === "message")[4];
    const wsIds: string[] = [];
    const ws = new WebSocket(
      `${bridge.url.replace("http", "ws")}/v1/topics/${topic}/stream?last_event_id=${encodeURIComponent(fifth?.id ?? "")}`,
      { headers: { authorization: READER } },
    );
    ws.on("message", (data) => wsIds.push((JSON.parse(String(data)) as { event: Ce }).event.id));
    const deadline = Date.now() + 5000;
    while (wsIds.length < all.length - 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    ws.close();
    expect(new Set(wsIds).size).toBe(wsIds.length);
    expect([...seen.slice(0, 5), ...wsIds].sort()).toEqual([...all].sort());

    const bad = await fetch(`${bridge.url}/v1/topics/${topic}/stream`, {
      headers: { authorization: READER, accept: "text/event-stream", "last-event-id": "0:999999999" },
    });
    expect(bad.status).toBe(400);
  });

  it("caps the streams open at once (503 + Retry-After, WebSocket too)", async () => {
    const streams = await Promise.all(
      Array.from({ length: 6 }, () =>
        openEventStream(`${bridge.url}/v1/topics/${topic}/stream`, { authorization: READER }),
      ),
    );
    try {
      expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const refused = await fetch(`${bridge.url}/v1/topics/${topic}/stream`, {
        headers: { authorization: READER, accept: "text/event-stream" },
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${bridge.url.replace("http", "ws")}/v1/topics/${topic}/stream`, {
          headers: { authorization: READER },
        });
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => resolve(101));
        ws.on("error", () => undefined);
      });
      expect(status).toBe(503);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it("drops a reader that stops reading once its buffer passes the bound, with a reason (SSE event, WebSocket 1008)", async () => {
    const sse = await openEventStream(`${bridge.url}/v1/topics/${bulky}/stream`, { authorization: READER });
    await sse.until((c) => c.lastEventId !== "", 5000, "the opening id");
    const closes: { code: number; reason: string }[] = [];
    const ws = new WebSocket(`${bridge.url.replace("http", "ws")}/v1/topics/${bulky}/stream`, {
      headers: { authorization: READER },
    });
    ws.on("close", (code, reason) => closes.push({ code, reason: String(reason) }));
    await new Promise((resolve) => ws.once("open", resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    sse.pause();
    ws.pause();
    // 12 MB of events: more than the loopback socket buffers take, so bytes wait in the bridge.
    const payload = "x".repeat(200_000);
    for (let i = 0; i < 15; i++) {
      await produce(
        Array.from({ length: 4 }, (_, j) => binaryRecord(bulky, { ...event(1000 + i * 4 + j), data: { payload } })),
      );
    }
    const dropped = async () => {
      const text = await metricsText();
      return ["sse", "ws"].every((p) =>
        new RegExp(`edgebus_bridge_streams_closed_total\\{protocol="${p}",reason="slow_consumer"\\} 1`).test(text),
      );
    };
    const deadline = Date.now() + 15_000;
    while (!(await dropped()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await dropped()).toBe(true);
    sse.resume();
    ws.resume();
    await sse.ended;
    const last = sse.messages.at(-1);
    expect(last?.event).toBe("error");
    expect(JSON.parse(last?.data ?? "{}")).toMatchObject({ code: "slow_consumer" });
    const deadlineWs = Date.now() + 10_000;
    while (closes.length === 0 && Date.now() < deadlineWs) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closes[0]?.code).toBe(1008);
    expect(closes[0]?.reason).toMatch(/slow consumer/);
    // The reader got a prefix of the stream, far less than was produced.
    expect(sse.received).toBeLessThan(12_000_000);

    // The latest-events view of the same topic stays within its byte cap (1 MiB), newest kept.
    const latest = (await (
      await fetch(`${bridge.url}/v1/topics/${bulky}/events?limit=100`, { headers: { authorization: READER } })
    ).json()) as { truncated: boolean; events: { event: Ce }[] };
    expect(latest.truncated).toBe(true);
    expect(latest.events.length).toBeGreaterThanOrEqual(1);
    expect(latest.events.length).toBeLessThanOrEqual(5);
    expect(latest.events.at(-1)?.event.id).toBe(`${run}-1059`);
  }, 40_000);
});
