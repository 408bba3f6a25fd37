import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { UpstashKafkaPublisher } from "../../workers/producer/src/brokers/upstash-kafka-publisher.ts";
import { KafkaRestRecorder } from "./kafka-rest-recorder.ts";
import { contractMessage, runPublisherContract } from "./publisher.contract.ts";

const recorder = new KafkaRestRecorder("edgebus-user", "s3cret:with:colons");
beforeAll(() => recorder.start());
afterAll(() => recorder.stop());

const newPublisher = (options: Partial<ConstructorParameters<typeof UpstashKafkaPublisher>[0]> = {}) =>
  new UpstashKafkaPublisher({
    url: recorder.url,
    username: recorder.username,
    password: recorder.password,
    ...options,
  });

runPublisherContract({
  name: "upstash-kafka (recording Kafka REST server)",
  newPublisher: () => newPublisher(),
  destinations: ["gov.test.contract", "gov.test.other"],
  // Nothing listens on port 1: every attempt fails with a network error.
  newFailingPublisher: () =>
    new UpstashKafkaPublisher({ url: "http://127.0.0.1:1/kafka", username: "u", password: "p", retries: 0 }),
  readBack: async (topic, runId) =>
    recorder.records.filter((record) => record.topic === topic && record.value.includes(runId)).map((r) => r.value),
  requestCount: () => recorder.requests.length,
  oversizedValueBytes: 1_000_001,
});

describe("Upstash Kafka REST wire format", () => {
  it("sends POST {base}/produce with Basic auth and a JSON array of records", async () => {
    const before = recorder.requests.length;
    const publisher = newPublisher();
    const message = contractMessage("wire", 1, {
      key: "citizen-42",
      headers: { ce_id: "wire-1", "content-type": "application/json" },
    });
    const plain = contractMessage("wire", 2);
    const receipts = await publisher.publish("gov.auth.citizen", [message, plain]);

    const [request] = recorder.requests.slice(before);
    expect(recorder.requests.length - before).toBe(1);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/kafka/produce");
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from("edgebus-user:s3cret:with:colons").toString("base64")}`,
    );
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request?.rawBody ?? "")).toEqual([
      {
        topic: "gov.auth.citizen",
        key: "citizen-42",
        value: message.value,
        headers: [
          { key: "ce_id", value: "wire-1" },
          { key: "content-type", value: "application/json" },
        ],
      },
      { topic: "gov.auth.citizen", value: plain.value },
    ]);
    // The value travels as the exact string given (the client only stringifies non-strings).
    expect(typeof JSON.parse(request?.rawBody ?? "")[0].value).toBe("string");
    const stored = recorder.records.filter((record) => record.topic === "gov.auth.citizen").slice(-2);
    expect(receipts).toEqual(
      stored.map(({ partition, offset }) => ({ destination: "gov.auth.citizen", partition, offset })),
    );
  });

  it("reads partition and offset from the server's receipts", async () => {
    recorder.script({
      status: 200,
      body: JSON.stringify([
        { topic: "t", partition: 7, offset: 1234, timestamp: 1 },
        { topic: "t", partition: 2, offset: 0, timestamp: 1 },
      ]),
    });
    const receipts = await newPublisher().publish("t", [contractMessage("r", 1), contractMessage("r", 2)]);
    expect(receipts).toEqual([
      { destination: "t", partition: 7, offset: 1234 },
      { destination: "t", partition: 2, offset: 0 },
    ]);
  });

  it("rejects a receipt count that does not match the records", async () => {
    recorder.script({ status: 200, body: JSON.stringify([{ topic: "t", partition: 0, offset: 1, timestamp: 1 }]) });
    const failure = await newPublisher()
      .publish("t", [contractMessage("n", 1), contractMessage("n", 2)])
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "upstream_unavailable", retryable: false });
  });

  it("retries a failed request exactly `retries` times, not the client's default 5", async () => {
    const before = recorder.requests.length;
    const unavailable = { status: 503, body: JSON.stringify({ error: "broker down", status: 503 }) };
    recorder.script(unavailable, unavailable);
    const started = Date.now();
    const failure = await newPublisher({ retries: 1 })
      .publish("t", [contractMessage("retry", 1)])
      .catch((error: unknown) => error);
    expect(recorder.requests.length - before).toBe(2);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(failure).toBeInstanceOf(EdgebusError);
    expect(failure).toMatchObject({ code: "upstream_unavailable", retryable: true });
  });

  it("succeeds when the retry succeeds", async () => {
    recorder.script({ status: 502, body: "<html>bad gateway</html>" });
    const receipts = await newPublisher({ retries: 1 }).publish("t", [contractMessage("recover", 1)]);
    expect(receipts).toHaveLength(1);
  });

  it("maps rejected credentials to a non-retryable error naming the settings", async () => {
    const failure = await new UpstashKafkaPublisher({ url: recorder.url, username: "x", password: "y", retries: 0 })
      .publish("t", [contractMessage("auth", 1)])
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "upstream_unavailable", retryable: false });
    expect((failure as Error).message).toContain("UPSTASH_KAFKA_REST_USERNAME");
  });

  it("maps a 413 to payload_too_large and a 400 to a non-retryable failure", async () => {
    recorder.script({ status: 413, body: JSON.stringify({ error: "too large", status: 413 }) });
    await expect(newPublisher({ retries: 0 }).publish("t", [contractMessage("big", 1)])).rejects.toMatchObject({
      code: "payload_too_large",
    });
    recorder.script({ status: 400, body: JSON.stringify({ error: "unknown topic", status: 400 }) });
    await expect(newPublisher({ retries: 0 }).publish("t", [contractMessage("bad", 1)])).rejects.toMatchObject({
      code: "upstream_unavailable",
      retryable: false,
    });
  });

  it("gives up after timeoutMs when the server does not answer", async () => {
    recorder.script("hang");
    const started = Date.now();
    await expect(
      newPublisher({ retries: 0, timeoutMs: 300 }).publish("t", [contractMessage("hang", 1)]),
    ).rejects.toMatchObject({ code: "upstream_unavailable", retryable: true });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("splits batches over the request limits into consecutive requests, in order", async () => {
    const before = recorder.requests.length;
    const messages = Array.from({ length: 7 }, (_, i) => contractMessage("split", i, { key: "same" }));
    const receipts = await newPublisher({ maxRequestMessages: 3 }).publish("gov.split", messages);
    const bodies = recorder.requests.slice(before).map((request) => JSON.parse(request.rawBody) as unknown[]);
    expect(bodies.map((body) => body.length)).toEqual([3, 3, 1]);
    expect(receipts.map((receipt) => receipt.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
