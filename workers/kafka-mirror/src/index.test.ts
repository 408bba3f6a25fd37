import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { DeadLetterMessage } from "#shared/consumers/dead-letter-message.ts";
import { openDatabase } from "#shared/db/client.ts";
import { consumerMetricsTotals, metricsQueue } from "../../../test/support/consumer-metrics.ts";
import {
  queueMessage,
  queueWorker,
  recordingBatch,
  recordingDeadLetters,
} from "../../../test/support/queue-delivery.ts";
import { handleMirrorBatch } from "./index.ts";
import { parseRetryAfter } from "./mirror-client.ts";

const worker = queueWorker(exports);
const bindings = env as unknown as { DEAD_LETTER_QUEUE: Queue; HYPERDRIVE: Hyperdrive };
const postgresAvailable = inject("postgresAvailable");
const receivedUrl = new URL("/received", inject("mirrorUrl")).toString();

function event(mirror?: string) {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "/mirror/test",
    type: "gov.permits.application.submitted",
    time: "2026-11-22T08:00:00Z",
    partitionkey: "APP-1",
    data: mirror === undefined ? {} : { mirror },
  };
}
const message = queueMessage;

async function received(): Promise<string[]> {
  const list = (await (await fetch(receivedUrl)).json()) as { id: string }[];
  return list.map((r) => r.id);
}

describe("kafka-mirror consumer (workerd, signed local mirror server)", () => {
  it("acks only what Kafka acknowledged and retries the rest with backoff", async () => {
    const ok = event();
    const transient = event("transient");
    const omitted = event("omit");
    // `ok` as the producer sends events (its JSON text), the others as json bodies.
    const messages = [
      message(JSON.stringify(ok)),
      message(transient, 2),
      message(omitted, 3),
      message(JSON.stringify(ok)),
    ];
    const result = await worker.queue("kafka-mirror", messages);
    expect([...result.explicitAcks].sort()).toEqual([messages[0]?.id, messages[3]?.id].sort());
    const retries = new Map(result.retryMessages.map((r) => [r.msgId, r.delaySeconds]));
    expect([...retries.keys()].sort()).toEqual([messages[1]?.id, messages[2]?.id].sort());
    const delay2 = retries.get(messages[1]?.id as string) as number;
    const delay3 = retries.get(messages[2]?.id as string) as number;
    expect(delay2).toBeGreaterThanOrEqual(1);
    expect(delay2).toBeLessThanOrEqual(2);
    expect(delay3).toBeGreaterThanOrEqual(1);
    expect(delay3).toBeLessThanOrEqual(4);
    const seen = await received();
    expect(seen.filter((id) => id === ok.id)).toHaveLength(1);
    expect(seen).not.toContain(transient.id);
  });

  it("dead-letters events the bridge refuses permanently, and poison, with the error", async () => {
    const tooLarge = event("permanent");
    const { batch, acked } = recordingBatch("kafka-mirror", [
      message(tooLarge),
      message({ not: "an event" }),
      message(event()),
    ]);
    const { env: testEnv, letters } = recordingDeadLetters(env);
    await handleMirrorBatch(batch, testEnv);
    expect(acked.size).toBe(3);
    expect(letters).toHaveLength(2);
    expect(letters[0]).toMatchObject({
      queue: "kafka-mirror",
      consumer: "kafka-mirror",
      body: tooLarge,
      error: { code: "bad_request", reason: "permanent" },
    });
    expect(letters[0]?.error.message).toContain("record_too_large");
    expect(letters[1]?.error.code).toBe("invalid_envelope");
  });

  it("honours the bridge's Retry-After on 429 for the whole batch", async () => {
    const messages = [message(event("status-429")), message(event())];
    const result = await worker.queue("kafka-mirror", messages);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.delaySeconds)).toEqual([30, 30]);
  });

  it("keeps retrying (never drops) when the signature is refused, until the retries run out", async () => {
    const retried: (number | undefined)[] = [];
    const letters: DeadLetterMessage[] = [];
    const body = event();
    const batch = (attempts: number) => ({
      queue: "kafka-mirror",
      messages: [
        {
          ...message(body, attempts),
          ack: () => {},
          retry: (o?: { delaySeconds?: number }) => retried.push(o?.delaySeconds),
        },
      ],
    });
    const wrongSecret = {
      ...env,
      BRIDGE_MIRROR_SECRET: "not-the-shared-secret-at-all",
      DEAD_LETTER_QUEUE: {
        async send(letter: DeadLetterMessage) {
          letters.push(letter);
        },
      },
    };
    await handleMirrorBatch(batch(1), wrongSecret);
    expect(retried).toHaveLength(1);
    expect(letters).toHaveLength(0);
    await handleMirrorBatch(batch(11), wrongSecret);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.error).toMatchObject({ reason: "exhausted" });
    expect(letters[0]?.error.message).toContain("401");
    expect(await received()).not.toContain(body.id);
  });

  it("retries when the bridge is unreachable", async () => {
    const retried: (number | undefined)[] = [];
    await handleMirrorBatch(
      {
        queue: "kafka-mirror",
        messages: [{ ...message(event()), ack: () => {}, retry: (o) => retried.push(o?.delaySeconds) }],
      },
      { ...env, BRIDGE_MIRROR_URL: "http://127.0.0.1:1/v1/mirror" },
    );
    expect(retried).toEqual([1]);
  });

  it.runIf(postgresAvailable)(
    "counts each batch once in edgebus.consumer_metrics: applied, duplicate, retried, dead-lettered",
    async () => {
      const queue = metricsQueue("kafka-mirror");
      const ok = event();
      const result = await worker.queue(queue, [
        message(ok),
        message(ok),
        message(event("transient")),
        message(event("permanent")),
      ]);
      expect(result.explicitAcks).toHaveLength(3);
      const sql = openDatabase(bindings.HYPERDRIVE.connectionString);
      expect(await consumerMetricsTotals(sql, "kafka-mirror", queue)).toEqual({
        applied: 1,
        // The second copy in the batch was not sent again.
        duplicate: 1,
        retried: 1,
        dead_lettered: 1,
        batches: 1,
        batch_size_sum: 4,
        event_age_count: 4,
        enqueue_age_count: 4,
      });

      // Without the HYPERDRIVE binding the Worker mirrors as before and writes no metrics.
      const unmetered = metricsQueue("kafka-mirror");
      const { batch, acked } = recordingBatch(unmetered, [message(event())]);
      await handleMirrorBatch(batch, { ...env, HYPERDRIVE: undefined });
      expect(acked.size).toBe(1);
      expect((await consumerMetricsTotals(sql, "kafka-mirror", unmetered)).batches).toBe(0);
    },
  );

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("12")).toBe(12);
    expect(parseRetryAfter("Sun, 22 Nov 2026 09:00:30 GMT", Date.parse("2026-11-22T09:00:00Z"))).toBe(30);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
