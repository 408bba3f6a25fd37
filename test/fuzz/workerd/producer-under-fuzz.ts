/**
 * The producer as the fuzz and security suites drive it inside workerd: the real app with the
 * real queue bindings from wrangler.toml (each wrapped so the suite sees every message sent to
 * it, then forwarded to the binding), Kafka and Redis through a real bridge, and one exchange per
 * request that records what reached each backend while that request ran.
 *
 * Requests are sent one at a time (fast-check runs a property's cases sequentially), so a
 * counter that moved during an exchange moved because of that request.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { readQueueBody } from "#shared/envelope/queue-message.ts";
import { createProducerApp } from "../../../workers/producer/src/app.ts";
import type { QueueBinding } from "../../../workers/producer/src/brokers/queue-publisher.ts";
import { QueuePublisher } from "../../../workers/producer/src/brokers/queue-publisher.ts";
import { parseProducerEnv } from "../../../workers/producer/src/env.ts";
import { type MintedKey, testEnv } from "../../../workers/producer/src/producer-test-harness.ts";
import { edgebusErrorProblem } from "../support/error-shape.ts";
import { type FuzzBridge, producerBackendEnv, readBackendState } from "../support/fuzz-bridge.ts";

export interface QueuedMessage {
  readonly queue: string;
  readonly body: { id?: unknown; source?: unknown; data?: unknown };
}

export interface Exchange {
  readonly request: string;
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
  /** Messages the producer sent to any queue while this request ran. */
  readonly queued: readonly QueuedMessage[];
  /** Records Kafka acknowledged (through the bridge) while this request ran. */
  readonly kafkaProduced: number;
  /** Dedup records created in Redis while this request ran. */
  readonly dedupRecords: number;
}

export class ProducerUnderFuzz {
  readonly queued: QueuedMessage[] = [];
  readonly app: ReturnType<typeof createProducerApp>;
  readonly env: Record<string, unknown>;
  readonly bridge: FuzzBridge;

  constructor(bridge: FuzzBridge, keys: readonly MintedKey[]) {
    this.bridge = bridge;
    const realQueues = parseProducerEnv(env).queues;
    const observed: Record<string, QueueBinding> = {};
    for (const [queue, binding] of Object.entries(realQueues)) {
      observed[queue] = {
        sendBatch: (messages) => {
          const list = [...messages];
          // Read as a consumer reads it: the event its JSON text carries.
          for (const message of list)
            this.queued.push({ queue, body: readQueueBody(message.body) as QueuedMessage["body"] });
          return binding.sendBatch(list);
        },
      };
    }
    this.app = createProducerApp({ capabilities: () => ({ queues: new QueuePublisher(observed) }) });
    this.env = testEnv(keys, producerBackendEnv(bridge));
  }

  /** Sends one request and records what reached the queues, Kafka and Redis meanwhile. */
  async exchange(path: string, init: RequestInit): Promise<Exchange> {
    const before = await readBackendState(this.bridge);
    const queuedBefore = this.queued.length;
    const response = await this.app.request(path, init, this.env);
    const text = await response.text();
    const after = await readBackendState(this.bridge);
    return {
      request: `${init.method ?? "GET"} ${path}`,
      status: response.status,
      text,
      headers: response.headers,
      queued: this.queued.slice(queuedBefore),
      kafkaProduced: after.kafkaProduced - before.kafkaProduced,
      dedupRecords: after.dedupRecords - before.dedupRecords,
    };
  }
}

interface ReceiptJson {
  id: string;
  status: "accepted" | "duplicate";
  kafka: { topic: string } | null;
  queues: string[];
}

function describeExchange(exchange: Exchange): string {
  return `${exchange.request} → ${exchange.status} ${exchange.text.slice(0, 300)}`;
}

/**
 * The invariants every answer must keep: never 5xx; a rejection is the one error shape with a
 * reason and nothing of it reached a queue, Kafka or Redis; an acceptance published exactly what
 * its receipt says. Returns the status for the tally.
 */
export function expectHostileInvariants(exchange: Exchange): number {
  const what = describeExchange(exchange);
  expect(exchange.status, what).toBeLessThan(500);
  if (exchange.status >= 400) {
    expect(edgebusErrorProblem(exchange.status, exchange.text), what).toBeUndefined();
    expect(exchange.queued, `${what}: a rejected request reached a queue`).toEqual([]);
    expect(exchange.kafkaProduced, `${what}: a rejected request reached Kafka`).toBe(0);
    expect(exchange.dedupRecords, `${what}: a rejected request left a dedup record in Redis`).toBe(0);
    return exchange.status;
  }
  if (exchange.status === 202) {
    const receipt = JSON.parse(exchange.text) as ReceiptJson;
    if (receipt.status === "accepted") {
      expect(exchange.queued.map((m) => m.queue).sort(), what).toEqual([...receipt.queues].sort());
      expect(exchange.kafkaProduced, what).toBe(receipt.kafka === null ? 0 : 1);
      expect(exchange.dedupRecords, what).toBe(1);
    } else {
      expect(exchange.dedupRecords, what).toBe(0);
    }
    for (const message of exchange.queued) expect(message.body.id, what).toBe(receipt.id);
    return exchange.status;
  }
  if (exchange.status === 200 && exchange.request.endsWith("/v1/events/batch")) {
    const body = JSON.parse(exchange.text) as {
      results: ({ index: number; status: number; receipt: ReceiptJson } | { status: number; error: unknown })[];
    };
    const published = new Set<string>();
    let kafka = 0;
    let created = 0;
    for (const item of body.results) {
      expect(item.status, what).toBeLessThan(500);
      if ("error" in item) {
        const problem = edgebusErrorProblem(item.status, JSON.stringify({ error: item.error }));
        expect(problem, what).toBeUndefined();
      } else {
        published.add(item.receipt.id);
        if (item.receipt.status === "accepted") {
          created += 1;
          if (item.receipt.kafka !== null) kafka += 1;
        }
      }
    }
    for (const message of exchange.queued) {
      expect(published.has(String(message.body.id)), `${what}: queued an event the batch did not accept`).toBe(true);
    }
    expect(exchange.kafkaProduced, what).toBeLessThanOrEqual(kafka);
    expect(exchange.dedupRecords, what).toBeLessThanOrEqual(created);
    return exchange.status;
  }
  expect(exchange.queued, what).toEqual([]);
  expect(exchange.kafkaProduced, what).toBe(0);
  return exchange.status;
}
