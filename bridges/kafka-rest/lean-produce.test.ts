/**
 * `POST /kafka/produce` on the lean route answers exactly as the Hono route: the same requests
 * (valid, unauthorised, malformed, over the limits, outside the login's scope, Kafka unavailable)
 * sent to the gateway served with and without the lean route give the same status, headers and
 * body, byte for byte. The producer is a stand-in with predictable receipts, so that successful
 * answers can be compared too; the real producer behind the lean route is exercised by the
 * bridge's own suites (it serves this route in bridges/server.ts).
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { type RawRequest, rawRequest, type ServedPair, servePair } from "../../test/support/lean-and-hono.ts";
import { BodyBudget, closeUnreadBodies } from "../http/bounded-body.ts";
import type { RecordReceipt, RecordToProduce } from "../kafka/record.ts";
import type { RecordProducer } from "../kafka/record-producer.ts";
import { createKafkaRestApp, type KafkaRestDeps } from "./app.ts";
import type { KafkaRestCredential } from "./basic-auth.ts";
import { createKafkaRestLeanRoutes } from "./lean-produce.ts";
import { receiptsJson } from "./routes/produce.ts";

/** Receipts numbered per topic from 0, one clock; `down.*` topics fail as an unreachable Kafka would. */
class StandInProducer {
  readonly produced: RecordToProduce[][] = [];
  readonly #next = new Map<string, number>();
  saturated = false;

  async produce(records: readonly RecordToProduce[]): Promise<RecordReceipt[]> {
    if (records.some((r) => r.topic.startsWith("down."))) {
      throw new EdgebusError("upstream_unavailable", "Kafka is unavailable: produce failed", { retryAfterSeconds: 1 });
    }
    this.produced.push([...records]);
    return records.map((r) => {
      const offset = this.#next.get(r.topic) ?? 0;
      this.#next.set(r.topic, offset + 1);
      return { topic: r.topic, partition: r.partition ?? 0, offset, timestamp: r.timestamp ?? 1_767_000_000_000 };
    });
  }
}

const logins: KafkaRestCredential[] = [
  { username: "producer", passwords: ["producer-pass"], produce: ["gov.*", "down.*"], fetch: [], groups: [] },
  { username: "reader", passwords: ["reader-pass"], produce: [], fetch: ["*"], groups: ["*"] },
];
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const producer = { authorization: basic("producer", "producer-pass"), "content-type": "application/json" };

function gateway(bodyBudgetBytes?: number): { app: Hono; deps: KafkaRestDeps; producer: StandInProducer } {
  const standIn = new StandInProducer();
  const deps: KafkaRestDeps = {
    // The produce route uses the producer alone.
    ...({} as Pick<KafkaRestDeps, "topics" | "reader" | "consumers">),
    producer: standIn as unknown as RecordProducer,
    credentials: logins,
    limits: { maxBodyBytes: 2048, maxMessagesPerProduce: 3 },
    ...(bodyBudgetBytes === undefined ? {} : { bodyBudget: new BodyBudget(bodyBudgetBytes) }),
  };
  // As the bridge mounts it (bridges/server.ts): unread bodies closed first, the gateway at /kafka.
  const app = new Hono().use("*", closeUnreadBodies).route("/kafka", createKafkaRestApp(deps));
  return { app, deps, producer: standIn };
}

const message = (topic: string, i: number) => ({
  topic,
  value: JSON.stringify({ citizenId: `c-${i}`, note: "ă ș ț 🙂" }),
  key: `c-${i}`,
  headers: [
    { key: "ce_id", value: `evt-${i}` },
    { key: "ce_type", value: "gov.test.citizen.updated" },
  ],
});

describe("Kafka REST produce: lean route and Hono route answer alike", () => {
  let pair: ServedPair;
  let budgeted: ServedPair;
  const leanAnswers: { path: string; status: number }[] = [];
  let honoSide: StandInProducer;
  let leanSide: StandInProducer;

  beforeAll(async () => {
    const hono = gateway();
    const lean = gateway();
    honoSide = hono.producer;
    leanSide = lean.producer;
    pair = await servePair(hono.app, lean.app, createKafkaRestLeanRoutes(lean.deps, "/kafka"), {
      onAnswered: (path, status) => leanAnswers.push({ path, status }),
    });
    // A budget smaller than one body: every body is refused with 429 while being read.
    const tightHono = gateway(64);
    const tightLean = gateway(64);
    budgeted = await servePair(tightHono.app, tightLean.app, createKafkaRestLeanRoutes(tightLean.deps, "/kafka"));
  });
  afterAll(async () => {
    await pair?.close();
    await budgeted?.close();
  });

  const same = async (spec: RawRequest, served: ServedPair = pair) => {
    const before = leanAnswers.length;
    const [viaHono, viaLean] = [await rawRequest(served.hono, spec), await rawRequest(served.lean, spec)];
    expect(viaLean).toEqual(viaHono);
    return { answer: viaLean, servedLean: leanAnswers.length > before };
  };
  const post = (body: unknown, headers: Record<string, string> = producer): RawRequest => ({
    method: "POST",
    path: "/kafka/produce",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

  it("produceMany and produce: the receipts, and the same records handed to the producer", async () => {
    const many = await same(post([message("gov.a", 1), message("gov.a", 2), message("gov.b", 3)]));
    expect(many.servedLean).toBe(true);
    expect(many.answer.status).toBe(200);
    expect(JSON.parse(many.answer.body)).toEqual([
      { topic: "gov.a", partition: 0, offset: 0, timestamp: 1_767_000_000_000 },
      { topic: "gov.a", partition: 0, offset: 1, timestamp: 1_767_000_000_000 },
      { topic: "gov.b", partition: 0, offset: 0, timestamp: 1_767_000_000_000 },
    ]);
    const one = await same(post({ ...message("gov.a", 4), partition: 2, timestamp: 1_767_000_000_123 }));
    expect(JSON.parse(one.answer.body)).toEqual([
      { topic: "gov.a", partition: 2, offset: 2, timestamp: 1_767_000_000_123 },
    ]);
    // A topic name that needs escaping in JSON.
    const odd = await same(post({ topic: 'gov."quoted"\\x', value: "v" }));
    expect(JSON.parse(odd.answer.body)[0].topic).toBe('gov."quoted"\\x');
    // The records themselves: the same fields either way.
    const fields = (batches: RecordToProduce[][]) =>
      batches.map((records) =>
        records.map(({ topic, key, value, partition, timestamp, headers }) => ({
          topic,
          key,
          value,
          partition,
          timestamp,
          headers: headers?.map(({ key: k, value: v }) => ({ key: k, value: v })),
        })),
      );
    expect(fields(leanSide.produced)).toEqual(fields(honoSide.produced));
  });

  it("the receipts' JSON is written exactly as JSON.stringify writes it", () => {
    const receipts = [
      { topic: "gov.a", partition: 0, offset: 0, timestamp: 1_767_000_000_000 },
      { topic: "gov.a", partition: 5, offset: 9_007_199_254_740_991, timestamp: 0 },
      { topic: 'gov."b"\\\u2028', partition: 1, offset: 12, timestamp: 1 },
    ];
    expect(receiptsJson(receipts)).toBe(JSON.stringify(receipts));
    expect(receiptsJson([])).toBe("[]");
  });

  it("a query string does not change the route", async () => {
    const { answer, servedLean } = await same({ ...post([message("gov.q", 1)]), path: "/kafka/produce?ignored=1" });
    expect(servedLean).toBe(true);
    expect(answer.status).toBe(200);
  });

  it("401 without, with wrong and with repeated credentials, before the body is read", async () => {
    const noLogin = await same(post([message("gov.a", 1)], { "content-type": "application/json" }));
    expect(noLogin.answer.status).toBe(401);
    const wrong = await same(post([message("gov.a", 1)], { authorization: basic("producer", "nope") }));
    expect(wrong.answer.status).toBe(401);
    // Two Authorization headers: the web Headers the Hono route reads join them, so both refuse.
    const twice = await same(
      post([message("gov.a", 1)], { authorization: [producer.authorization, producer.authorization] } as never),
    );
    expect(twice.answer.status).toBe(401);
  });

  it("400 for malformed JSON, a body off the protocol (with details) and no messages", async () => {
    expect((await same(post("{nope"))).answer.status).toBe(400);
    const offProtocol = await same(post([{ topic: "gov.a", value: 5 }]));
    expect(offProtocol.answer.status).toBe(400);
    expect(JSON.parse(offProtocol.answer.body)).toMatchObject({ code: "bad_request", details: expect.any(Array) });
    expect((await same(post([]))).answer.status).toBe(400);
    expect((await same(post(""))).answer.status).toBe(400);
    // A byte-order mark is dropped as Request.text() drops it.
    expect((await same(post(`\uFEFF${JSON.stringify([message("gov.bom", 1)])}`))).answer.status).toBe(200);
  });

  it("403 for a topic outside the login's scope, and for a login that may not produce", async () => {
    const outside = await same(post([message("gov.a", 1), message("audit.x", 2)]));
    expect(outside.answer.status).toBe(403);
    const reader = await same(post([message("gov.a", 1)], { authorization: basic("reader", "reader-pass") }));
    expect(reader.answer.status).toBe(403);
  });

  it("413 over the message count and over maxBodyBytes (declared or chunked), closing the connection", async () => {
    const many = [1, 2, 3, 4].map((i) => message("gov.a", i));
    expect((await same(post(many))).answer.status).toBe(413);
    const declared = await same(post([{ topic: "gov.a", value: "x".repeat(4000) }]));
    expect(declared.answer.status).toBe(413);
    expect(declared.answer.headers).toContainEqual(["connection", "close"]);
    const chunked = await same({
      method: "POST",
      path: "/kafka/produce",
      headers: producer,
      chunks: ['[{"topic":"gov.a","value":"', "y".repeat(1500), "y".repeat(1500), '"}]'],
    });
    expect(chunked.answer.status).toBe(413);
  });

  it("429 with Retry-After when the body budget is spent", async () => {
    const { answer } = await same(post([message("gov.a", 1)]), budgeted);
    expect(answer.status).toBe(429);
    expect(answer.headers).toContainEqual(["retry-after", "1"]);
  });

  it("503 with Retry-After when Kafka cannot take the records", async () => {
    const { answer } = await same(post([message("down.a", 1)]));
    expect(answer.status).toBe(503);
    expect(answer.headers).toContainEqual(["retry-after", "1"]);
  });

  it("every other form and route still reaches the Hono app", async () => {
    const getForm = await same({ ...post([message("gov.a", 1)]), method: "GET" });
    expect(getForm.servedLean).toBe(false);
    expect(getForm.answer.status).toBe(200);
    const topicInPath = await same({ ...post({ value: "v" }), path: "/kafka/produce/gov.path" });
    expect(topicInPath.servedLean).toBe(false);
    expect(topicInPath.answer.status).toBe(200);
    const trailingSlash = await same({ ...post([message("gov.a", 1)]), path: "/kafka/produce/" });
    expect(trailingSlash.servedLean).toBe(false);
  });
});
