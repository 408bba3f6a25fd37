/** `POST /v1/mirror` against a real Kafka broker: signatures, per-event results, the CloudEvents Kafka binding. */
import { Consumer, type Message } from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { MIRROR_PATH, mirrorResponseSchema } from "#shared/mirror-protocol.ts";
import { NONCE_HEADER, SIGNATURE_HEADER, signMirrorRequest } from "#shared/mirror-signature.ts";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { createKafkaStack, type KafkaStack } from "../kafka-stack.ts";
import { createMirrorRoute } from "./mirror-route.ts";
import { RedisNonceStore } from "./nonce-store.ts";
import { TopicMapping } from "./topic-mapping.ts";

const available = (await requireService("kafka", "mirror push")) && (await requireService("redis", "mirror push"));
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const secret = "mirror-test-secret";
// Unique per run: the event type gov.m<run>.citizen.* maps to topic gov.m<run>.citizen.
const domain = `m${run}`;
const citizenTopic = `gov.${domain}.citizen`;

function event(overrides: Partial<CloudEventRecord> = {}): CloudEventRecord {
  return {
    specversion: "1.0",
    id: `evt-${Math.random().toString(36).slice(2)}`,
    source: "/gov/auth",
    type: `gov.${domain}.citizen.created`,
    time: "2026-11-22T08:00:00Z",
    datacontenttype: "application/json",
    data: { citizenId: "c-1", name: "Ana" },
    partitionkey: "c-1",
    eventversion: 1,
    ...overrides,
  };
}

async function readAll(topic: string, expected: number): Promise<Message<Buffer, Buffer | null, Buffer, Buffer>[]> {
  const consumer = new Consumer<Buffer, Buffer | null, Buffer, Buffer>({
    clientId: "mirror-test",
    groupId: `mirror-test-${run}-${topic}`,
    bootstrapBrokers: serviceUrls.kafkaBrokers,
  });
  const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false, maxWaitTime: 200 });
  const messages: Message<Buffer, Buffer | null, Buffer, Buffer>[] = [];
  const deadline = Date.now() + 15_000;
  for await (const message of stream) {
    messages.push(message);
    if (messages.length >= expected || Date.now() > deadline) break;
  }
  await stream.close();
  await consumer.close(true);
  return messages;
}

describe.runIf(available)("mirror push", () => {
  let stack: KafkaStack;
  let app: ReturnType<typeof createMirrorRoute>;
  let nonces: RedisNonceStore;

  const post = async (body: string, headers: Record<string, string>) =>
    app.request(MIRROR_PATH, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

  beforeAll(() => {
    stack = createKafkaStack(
      { brokers: serviceUrls.kafkaBrokers, clientId: `mirror-${run}`, requestTimeoutMs: 10_000 },
      {
        autoCreate: true,
        partitionsFor: (t) => (t === citizenTopic ? 6 : undefined),
        defaultPartitions: 1,
        replicationFactor: -1,
      },
      { idleTimeoutMs: 60_000, maxInstances: 5 },
    );
    nonces = new RedisNonceStore(serviceUrls.redis);
    app = createMirrorRoute({
      producer: stack.producer,
      // The second is the secret being rotated out: both are accepted.
      secret: [secret, "mirror-test-secret-previous"],
      mode: "binary",
      mapping: new TopicMapping({ exclude: [`gov.${domain}.ignored`] }),
      nonces,
    });
  });
  afterAll(async () => {
    await nonces?.close();
    await stack?.close();
  });

  it("refuses a bad or expired signature with 401 and a reason", async () => {
    const body = JSON.stringify({ events: [event()] });
    const wrong = await post(body, await signMirrorRequest("other-secret", body));
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toMatch(/signature mismatch/);
    const old = await post(body, await signMirrorRequest(secret, body, Math.floor(Date.now() / 1000) - 301));
    expect(old.status).toBe(401);
    expect(((await old.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "unauthorized",
      message: expect.stringMatching(/outside tolerance/),
    });
    const unsigned = await post(body, {});
    expect(unsigned.status).toBe(401);
    // v1 (no nonce) is refused with a reason that says what to do.
    const v1 = await signMirrorRequest(secret, body);
    const oldScheme = await post(body, {
      ...v1,
      [SIGNATURE_HEADER]: v1[SIGNATURE_HEADER]?.replace("v2=", "v1=") as string,
    });
    expect(((await oldScheme.json()) as { error: { message: string } }).error.message).toMatch(
      /v1 is no longer accepted/,
    );
  });

  it("checks the signature headers before reading a byte of the body", async () => {
    let pulled = 0;
    const endless = () =>
      new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            pulled += 1;
            controller.enqueue(new Uint8Array(64 * 1024).fill(32));
          },
        },
        { highWaterMark: 0 },
      );
    for (const headers of [
      {},
      await signMirrorRequest(secret, "x", Math.floor(Date.now() / 1000) - 3600),
      { ...(await signMirrorRequest(secret, "x")), [NONCE_HEADER]: "short" },
    ]) {
      const response = await app.request(MIRROR_PATH, {
        method: "POST",
        body: endless(),
        headers,
        duplex: "half",
      } as RequestInit);
      expect(response.status).toBe(401);
    }
    expect(pulled).toBe(0);
    // Well-formed headers: the body is read, but never more than maxBodyBytes of it.
    const small = createMirrorRoute({
      producer: stack.producer,
      secret,
      mode: "binary",
      mapping: new TopicMapping({}),
      maxBodyBytes: 1024 * 1024,
    });
    const tooLarge = await small.request(MIRROR_PATH, {
      method: "POST",
      body: endless(),
      headers: await signMirrorRequest("forged-secret-0000001", "x"),
      duplex: "half",
    } as RequestInit);
    expect(tooLarge.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(1024 / 64 + 2);
  });

  it("accepts every configured secret (rotation)", async () => {
    const body = JSON.stringify({ events: [event({ type: `gov.${domain}.extra.created` })] });
    const previous = await post(body, await signMirrorRequest("mirror-test-secret-previous", body));
    expect(previous.status, await previous.clone().text()).toBe(200);
  });

  it("refuses a replayed request with 409 in the one error shape; the same body with a fresh nonce passes", async () => {
    const body = JSON.stringify({ events: [event({ type: `gov.${domain}.extra.created` })] });
    const headers = await signMirrorRequest(secret, body);
    expect((await post(body, headers)).status).toBe(200);
    const replay = await post(body, headers);
    expect(replay.status).toBe(409);
    expect(await replay.json()).toEqual({
      error: {
        code: "conflict",
        message: expect.stringMatching(/nonce was already used/),
        request_id: expect.any(String),
      },
    });
    // A retry signs again with a fresh nonce: accepted (at-least-once, as before).
    expect((await post(body, await signMirrorRequest(secret, body))).status).toBe(200);
  });

  it("fails closed when the nonce store cannot answer: 503, retryable, Retry-After", async () => {
    const down = new RedisNonceStore("redis://127.0.0.1:1");
    const closed = createMirrorRoute({
      producer: stack.producer,
      secret,
      mode: "binary",
      mapping: new TopicMapping({}),
      nonces: down,
    });
    try {
      const body = JSON.stringify({ events: [event({ type: `gov.${domain}.extra.created` })] });
      const response = await closed.request(MIRROR_PATH, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...(await signMirrorRequest(secret, body)) },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: "upstream_unavailable",
        message: expect.stringMatching(/replay protection is unavailable/),
      });
    } finally {
      await down.close();
    }
  }, 20_000);

  it("refuses bodies that are not an event batch", async () => {
    const notJson = "{nope";
    expect((await post(notJson, await signMirrorRequest(secret, notJson))).status).toBe(400);
    const empty = JSON.stringify({ events: [] });
    expect((await post(empty, await signMirrorRequest(secret, empty))).status).toBe(400);
  });

  it("writes binary-mode records, answers per event, creates the topic with the catalogue's partitions", async () => {
    const created = event();
    const noData = event({ type: `gov.${domain}.citizen.deleted`, data: undefined, datacontenttype: undefined });
    const broken = { id: "x-1", source: "/gov/auth", type: "no-entity" };
    const ignored = event({ type: `gov.${domain}.ignored.created` });
    const body = JSON.stringify({ events: [created, broken, noData, ignored] });
    const response = await post(body, await signMirrorRequest(secret, body));
    expect(response.status).toBe(200);
    const { results } = mirrorResponseSchema.parse(await response.json());
    expect(results.map((r) => [r.id, r.status])).toEqual([
      [created.id, "acked"],
      ["x-1", "failed"],
      [noData.id, "acked"],
      [ignored.id, "acked"],
    ]);
    expect(results[1]?.error).toMatchObject({ code: "invalid_envelope", retryable: false });
    expect(results[0]).toMatchObject({ topic: citizenTopic, offset: expect.any(Number) });
    expect(results[2]?.partition).toBe(results[0]?.partition); // same partitionkey, same partition
    expect(results[3]?.topic).toBeUndefined();

    expect((await stack.topics.partitionCounts())[citizenTopic]).toBe(6);

    const records = await readAll(citizenTopic, 2);
    expect(records).toHaveLength(2);
    const [first, second] = records.sort((a, b) => Number(a.offset - b.offset));
    const headers = (m: Message<Buffer, Buffer | null, Buffer, Buffer>) =>
      Object.fromEntries([...m.headers].map(([k, v]) => [k.toString(), v.toString()]));
    expect(first?.key.toString()).toBe("c-1");
    expect(JSON.parse(first?.value?.toString() ?? "")).toEqual(created.data);
    expect(headers(first as Message<Buffer, Buffer | null, Buffer, Buffer>)).toEqual({
      ce_specversion: "1.0",
      ce_id: created.id,
      ce_source: "/gov/auth",
      ce_type: created.type,
      ce_time: created.time,
      ce_partitionkey: "c-1",
      ce_eventversion: "1",
      "content-type": "application/json",
    });
    // No data: an empty value, never null (a null would be a tombstone on a compacted topic).
    expect(second?.value).not.toBeNull();
    expect(second?.value?.length).toBe(0);
    expect(headers(second as Message<Buffer, Buffer | null, Buffer, Buffer>)["content-type"]).toBeUndefined();
  }, 30_000);

  it("structured mode writes the whole event as application/cloudevents+json", async () => {
    const structured = createMirrorRoute({
      producer: stack.producer,
      secret,
      mode: "structured",
      mapping: new TopicMapping({ rename: [{ from: "gov.*", to: `structured.gov.*` }] }),
    });
    const e = event();
    const body = JSON.stringify({ events: [e] });
    const response = await structured.request(MIRROR_PATH, {
      method: "POST",
      body,
      headers: await signMirrorRequest(secret, body),
    });
    const { results } = mirrorResponseSchema.parse(await response.json());
    expect(results[0]).toMatchObject({ status: "acked", topic: `structured.${citizenTopic}` });
    const [record] = await readAll(`structured.${citizenTopic}`, 1);
    expect(JSON.parse(record?.value?.toString() ?? "")).toEqual(e);
    const headers = [...(record?.headers ?? [])].map(([k, v]) => [k.toString(), v.toString()]);
    expect(headers).toEqual([["content-type", "application/cloudevents+json"]]);
  }, 30_000);

  it("accepts a batch of large events bigger than one Kafka request and keeps their order", async () => {
    const events = Array.from({ length: 25 }, (_, i) =>
      event({
        type: `gov.${domain}.large.created`,
        partitionkey: "same-entity",
        data: { i, blob: "x".repeat(100_000) },
      }),
    );
    const body = JSON.stringify({ events });
    expect(body.length).toBeGreaterThan(2_000_000);
    const response = await post(body, await signMirrorRequest(secret, body));
    expect(response.status).toBe(200);
    const { results } = mirrorResponseSchema.parse(await response.json());
    expect(results.every((r) => r.status === "acked")).toBe(true);
    const offsets = results.map((r) => Number(r.offset));
    expect(new Set(results.map((r) => r.partition)).size).toBe(1);
    expect(offsets).toEqual(offsets.map((_, i) => (offsets[0] as number) + i));
  }, 60_000);
});
