import { describe, expect, inject, it } from "vitest";
import { UpstashKafkaPublisher } from "../../../workers/producer/src/brokers/upstash-kafka-publisher.ts";
import type { RecordedRequest, StoredRecord } from "../kafka-rest-recorder.ts";
import { contractMessage, runPublisherContract } from "../publisher.contract.ts";

/**
 * The same contract as in Node, but inside workerd: proves the unmodified `@upstash/kafka`
 * client (fetch with `keepalive`, its base64 polyfill) works in the runtime the producer uses.
 */
const url = inject("contractKafkaRestUrl");
const username = inject("contractKafkaRestUsername");
const password = inject("contractKafkaRestPassword");
const inspectUrl = inject("contractKafkaInspectUrl");

async function recorded(): Promise<{ requests: RecordedRequest[]; records: StoredRecord[] }> {
  const res = await fetch(inspectUrl);
  return (await res.json()) as { requests: RecordedRequest[]; records: StoredRecord[] };
}

let requestsSeen = 0;

runPublisherContract({
  name: "upstash-kafka inside workerd (recording Kafka REST server)",
  newPublisher: () => new UpstashKafkaPublisher({ url, username, password }),
  destinations: ["gov.test.contract", "gov.test.other"],
  newFailingPublisher: () =>
    new UpstashKafkaPublisher({ url: "http://127.0.0.1:1/kafka", username, password, retries: 0 }),
  readBack: async (topic, runId) => {
    const { records, requests } = await recorded();
    requestsSeen = requests.length;
    return records.filter((record) => record.topic === topic && record.value.includes(runId)).map((r) => r.value);
  },
  // Asked over HTTP: the recorder runs in Node (global-setup.ts), this test inside workerd.
  requestCount: async () => (await recorded()).requests.length,
  oversizedValueBytes: 1_000_001,
});

describe("@upstash/kafka inside workerd", () => {
  it("sends Basic auth computed by the client's own base64 polyfill", async () => {
    const publisher = new UpstashKafkaPublisher({ url, username, password });
    await publisher.publish("gov.test.auth", [contractMessage(crypto.randomUUID(), 0)]);
    const { requests } = await recorded();
    expect(requests.length).toBeGreaterThan(requestsSeen);
    expect(requests.at(-1)?.headers.authorization).toBe(`Basic ${btoa(`${username}:${password}`)}`);
  });
});
