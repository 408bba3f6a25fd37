/**
 * Every form of Upstash's Kafka REST documentation that `@upstash/kafka` does not send, as the
 * documented curl line sends it: `-u user:pass` (Basic), `-d` bodies with curl's form content
 * type, `-X GET` with a body, query parameters. Raw HTTP over a real socket (node:http, which,
 * like curl, can send a body with GET), a real broker, topics and groups unique per run.
 */
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { createKafkaRestApp } from "./app.ts";

const available = await requireService("kafka", "kafka-rest gateway (documented curl forms)");
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const credentials = { username: "myuser", password: "my:pass" };
const greetings = `docs-${run}-greetings`;
const cities = `docs-${run}-cities`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

describe.runIf(available)("Kafka REST gateway: Upstash's documented curl forms", () => {
  let stack: KafkaStack;
  let server: ReturnType<typeof serve>;
  let port: number;

  /** `curl [-X method] [-u user:pass] [-d body] [-H …] $URL/path`. */
  function curl(
    path: string,
    options: { method?: string; data?: string; headers?: Record<string, string>; auth?: string | null } = {},
  ): Promise<Answer> {
    const method = options.method ?? (options.data === undefined ? "GET" : "POST");
    const auth = options.auth === undefined ? `${credentials.username}:${credentials.password}` : options.auth;
    const headers: Record<string, string> = {
      ...(auth === null ? {} : { authorization: `Basic ${Buffer.from(auth).toString("base64")}` }),
      // What curl's -d sends.
      ...(options.data === undefined
        ? {}
        : {
            "content-type": "application/x-www-form-urlencoded",
            "content-length": String(Buffer.byteLength(options.data)),
          }),
      ...options.headers,
    };
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: `/kafka${path}`, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text === "" ? undefined : JSON.parse(text),
          });
        });
      });
      req.on("error", reject);
      req.end(options.data);
    });
  }

  async function produced(topic: string, partition: number, offset: number) {
    const answer = await curl("/fetch", { data: JSON.stringify({ topic, partition, offset, timeout: 1000 }) });
    expect(answer.status).toBe(200);
    return (answer.body as { offset: number; key: string; value: string; headers: unknown[] }[])[0];
  }

  beforeAll(async () => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `docs-${run}`, requestTimeoutMs: 10_000 },
      { autoCreate: true, partitionsFor: () => 4, defaultPartitions: 4, replicationFactor: -1 },
      { idleTimeoutMs: 60_000, maxInstances: 20 },
    );
    const root = new Hono().route("/kafka", createKafkaRestApp({ ...stack, credentials }));
    server = serve({ fetch: root.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  describe("Producer API", () => {
    it("GET /produce/$TOPIC/$MESSAGE[?key=] answers one metadata object", async () => {
      const plain = await curl(`/produce/${greetings}/hello_kafka`);
      expect(plain.status).toBe(200);
      expect(plain.body).toEqual({
        topic: greetings,
        partition: expect.any(Number),
        offset: expect.any(Number),
        timestamp: expect.any(Number),
      });
      const keyed = await curl(`/produce/${cities}/Istanbul?key=city`);
      const meta = keyed.body as { partition: number; offset: number };
      expect(await produced(cities, meta.partition, meta.offset)).toMatchObject({ key: "city", value: "Istanbul" });
    });

    it("[GET|POST] /produce/$TOPIC takes one message or an array, and answers an array", async () => {
      const one = await curl(`/produce/${greetings}`, { data: '{"value": "hello_kafka"}' });
      expect(one.status).toBe(200);
      expect(one.body).toEqual([expect.objectContaining({ topic: greetings })]);
      const attributes = await curl(`/produce/${cities}`, {
        data: '{"partition": 1, "key": "city", "value": "Istanbul", "headers": [{"key": "expire", "value": "1637745834756"}] }',
      });
      const [meta] = attributes.body as { partition: number; offset: number }[];
      expect(meta?.partition).toBe(1);
      expect(await produced(cities, 1, meta?.offset ?? -1)).toMatchObject({
        key: "city",
        value: "Istanbul",
        headers: [{ key: "expire", value: "1637745834756" }],
      });
      const many = await curl(`/produce/${cities}`, {
        method: "GET",
        data: JSON.stringify([
          { partition: 1, timestamp: 1637745834744, key: "city", value: "Istanbul" },
          { partition: 2, timestamp: 1637745823147, key: "city", value: "London" },
          { partition: 3, timestamp: 1637455583829, key: "city", value: "Tokyo" },
        ]),
      });
      expect(many.status).toBe(200);
      const metas = many.body as { partition: number; timestamp: number }[];
      expect(metas.map((m) => m.partition)).toEqual([1, 2, 3]);
      expect(metas.map((m) => m.timestamp)).toEqual([1637745834744, 1637745823147, 1637455583829]);
    });

    it("[GET|POST] /produce takes messages for several topics, in order", async () => {
      const single = await curl("/produce", { data: JSON.stringify({ topic: greetings, value: "hello_kafka" }) });
      expect(single.body).toEqual([expect.objectContaining({ topic: greetings })]);
      const several = await curl("/produce", {
        method: "GET",
        data: JSON.stringify([
          { topic: greetings, value: "hello_world" },
          { topic: cities, partition: 2, value: "London" },
        ]),
      });
      expect(several.status).toBe(200);
      expect((several.body as { topic: string; partition: number }[]).map((m) => [m.topic, m.partition])).toEqual([
        [greetings, expect.any(Number)],
        [cities, 2],
      ]);
    });
  });

  describe("Fetch API", () => {
    it("[GET|POST] /fetch with one triple, several, or both, and timeout", async () => {
      const meta = (await curl(`/produce/${cities}`, { data: '{"partition": 3, "value": "Tokyo"}' })).body as {
        offset: number;
      }[];
      const offset = meta[0]?.offset ?? 0;
      const post = await curl("/fetch", {
        data: JSON.stringify({ topic: cities, partition: 3, offset, timeout: 1000 }),
      });
      expect((post.body as { value: string }[])[0]).toMatchObject({
        topic: cities,
        partition: 3,
        offset,
        value: "Tokyo",
      });
      const get = await curl("/fetch", {
        method: "GET",
        data: JSON.stringify({
          topic: cities,
          partition: 3,
          offset,
          topicPartitionOffsets: [{ topic: cities, partition: 1, offset: 0 }],
          timeout: 5000,
        }),
      });
      expect(get.status).toBe(200);
      const records = get.body as { partition: number }[];
      expect(records[0]).toMatchObject({ partition: 3, offset });
      expect(records.some((r) => r.partition === 1)).toBe(true);
    });
  });

  describe("Consume, Commit and Committed APIs", () => {
    const group = `docs-${run}-group`;
    const earliest = { "Kafka-Auto-Offset-Reset": "earliest", "Kafka-Enable-Auto-Commit": "false" };

    async function consumeUntil(path: string, options: Parameters<typeof curl>[1]): Promise<unknown[]> {
      for (let attempt = 0; attempt < 30; attempt++) {
        const answer = await curl(path, options);
        expect(answer.status).toBe(200);
        if ((answer.body as unknown[]).length > 0) return answer.body as unknown[];
      }
      throw new Error(`no records from ${path}`);
    }

    it("GET /consume/$GROUP/$INSTANCE/$TOPIC?timeout= and [GET|POST] /consume/$GROUP/$INSTANCE", async () => {
      const viaPath = await consumeUntil(`/consume/${group}/path/${greetings}?timeout=1000`, { headers: earliest });
      expect(viaPath[0]).toMatchObject({ topic: greetings, key: expect.any(String), headers: expect.any(Array) });
      const other = `${group}-body`;
      const viaGetBody = await consumeUntil(`/consume/${other}/i1`, {
        method: "GET",
        data: JSON.stringify({ topics: [greetings, cities], timeout: 1000 }),
        headers: earliest,
      });
      expect(viaGetBody.length).toBeGreaterThan(0);
      const consumers = await curl("/consumers");
      const names = (consumers.body as { name: string; instances: { name: string }[] }[]).map((g) => [
        g.name,
        g.instances.map((i) => i.name),
      ]);
      expect(names).toEqual(
        expect.arrayContaining([
          [group, ["path"]],
          [other, ["i1"]],
        ]),
      );
    });

    it("[GET|POST] /commit: one offset, an array, or none (the last consumed); /committed?timeout= reads them", async () => {
      const tp = { topic: greetings, partition: 0 };
      const single = await curl(`/commit/${group}/path`, { data: JSON.stringify({ ...tp, offset: 1 }) });
      expect(single.body).toEqual({ result: "Success", status: 200 });
      const committed = await curl(`/committed/${group}/path?timeout=1000`, { data: JSON.stringify(tp) });
      expect(committed.body).toEqual([{ ...tp, offset: 1 }]);
      const array = await curl(`/commit/${group}/path`, {
        method: "GET",
        data: JSON.stringify([
          { ...tp, offset: 2 },
          { topic: greetings, partition: 1, offset: 0 },
        ]),
      });
      expect(array.body).toEqual({ result: "Success", status: 200 });
      const both = await curl(`/committed/${group}/path`, {
        method: "GET",
        data: JSON.stringify([tp, { topic: greetings, partition: 1 }]),
      });
      expect(both.body).toEqual([
        { ...tp, offset: 2 },
        { topic: greetings, partition: 1, offset: 0 },
      ]);
      // curl …/commit/$GROUP/$INSTANCE with no body: commit what was last consumed.
      const last = await curl(`/commit/${group}/path`);
      expect(last.body).toEqual({ result: "Success", status: 200 });
      expect((await curl(`/committed/${group}/path?timeout=x`, { data: JSON.stringify(tp) })).status).toBe(400);
    });

    it("[POST|DELETE] /delete-consumer removes an instance", async () => {
      expect((await curl(`/delete-consumer/${group}/path`, { method: "DELETE" })).body).toEqual({
        result: "Success",
        status: 200,
      });
      expect((await curl(`/delete-consumer/${group}-body/i1`, { method: "POST" })).status).toBe(200);
      expect((await curl(`/delete-consumer/${group}/path`, { method: "DELETE" })).status).toBe(404);
    });
  });

  describe("Metadata API", () => {
    it("GET /topics lists partition counts", async () => {
      const topics = await curl("/topics");
      expect(topics.body).toMatchObject({ [greetings]: 4, [cities]: 4 });
    });

    it("[GET|POST] /offsets/$TIMESTAMP|earliest|latest?timeout= with one partition or several", async () => {
      const latest = await curl("/offsets/latest?timeout=1000", {
        data: JSON.stringify({ topic: cities, partition: 1 }),
      });
      expect(latest.body).toEqual([{ topic: cities, partition: 1, offset: expect.any(Number) }]);
      const end = (latest.body as { offset: number }[])[0]?.offset ?? 0;
      expect(end).toBeGreaterThan(0);
      const earliestAnswer = await curl("/offsets/earliest", {
        method: "GET",
        data: JSON.stringify([
          { topic: cities, partition: 0 },
          { topic: cities, partition: 1 },
        ]),
      });
      expect(earliestAnswer.body).toEqual([
        { topic: cities, partition: 0, offset: 0 },
        { topic: cities, partition: 1, offset: 0 },
      ]);
      // The docs' example passes seconds (1642591892): every record is newer, so offset 0.
      const byTime = await curl("/offsets/1642591892", { data: JSON.stringify({ topic: cities, partition: 1 }) });
      expect(byTime.body).toEqual([{ topic: cities, partition: 1, offset: 0 }]);
      // A time after every record: where the next record will go (the log end).
      const future = await curl(`/offsets/${Date.now() + 3_600_000}`, {
        data: JSON.stringify({ topic: cities, partition: 1 }),
      });
      expect(future.body).toEqual([{ topic: cities, partition: 1, offset: end }]);
    });
  });

  describe("Webhook API", () => {
    it("[GET|POST] /webhook?topic= produces the body with the sender's own headers", async () => {
      const answer = await curl(`/webhook?topic=${greetings}`, {
        data: "some event data",
        headers: { "event-timestamp": "1642628041", "event-origin": "my-app", "user-agent": "curl/8" },
      });
      expect(answer.status).toBe(200);
      const meta = answer.body as { topic: string; partition: number; offset: number };
      expect(meta).toEqual({
        topic: greetings,
        partition: expect.any(Number),
        offset: expect.any(Number),
        timestamp: expect.any(Number),
      });
      const record = await produced(greetings, meta.partition, meta.offset);
      expect(record?.value).toBe("some event data");
      expect(record?.headers).toEqual(
        expect.arrayContaining([
          { key: "event-timestamp", value: "1642628041" },
          { key: "event-origin", value: "my-app" },
        ]),
      );
      const keys = ((record?.headers ?? []) as { key: string }[]).map((h) => h.key);
      for (const standard of ["user-agent", "content-type", "content-length", "host", "authorization"]) {
        expect(keys).not.toContain(standard);
      }
    });

    it("takes the login as &user=&pass= when there is no Authorization header, and only there", async () => {
      const query = `user=${encodeURIComponent(credentials.username)}&pass=${encodeURIComponent(credentials.password)}`;
      const viaQuery = await curl(`/webhook?topic=${greetings}&${query}`, { auth: null, data: "from a sender" });
      expect(viaQuery.status).toBe(200);
      const wrong = await curl(`/webhook?topic=${greetings}&user=myuser&pass=nope`, { auth: null, data: "x" });
      expect(wrong.status).toBe(401);
      const elsewhere = await curl(`/topics?${query}`, { auth: null });
      expect(elsewhere.status).toBe(401);
      const noTopic = await curl("/webhook", { data: "x" });
      expect(noTopic.status).toBe(400);
    });
  });
});
