/**
 * The contract every `Publisher` adapter must pass (see the guarantees on `Publisher` in
 * workers/producer/src/brokers/publisher.ts). Each adapter's suite calls `runPublisherContract` with a
 * harness; a case an adapter cannot run is skipped by name with the reason, never silently.
 *
 * Uses only Web APIs and vitest, so it runs in Node and inside workerd.
 */
import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import type { OutgoingMessage, Publisher, PublishReceipt } from "../../workers/producer/src/brokers/publisher.ts";

export const PUBLISHER_CONTRACT_CASES = [
  "receipts-in-order",
  "empty-batch",
  "separate-destinations",
  "large-batch-chunked",
  "concurrent-publishes",
  "broker-failure-rejects",
  "oversized-message-rejected",
  "publish-after-close-rejects",
] as const;
export type PublisherContractCase = (typeof PUBLISHER_CONTRACT_CASES)[number];

export interface PublisherContractHarness {
  /** Adapter name shown in the suite title. */
  readonly name: string;
  /** A fresh, working publisher. */
  newPublisher(): Publisher | Promise<Publisher>;
  /** Two destinations the publisher can write to (queue names, topics). */
  readonly destinations: readonly [string, string];
  /** A publisher whose broker is failing (unreachable, answering 503…). */
  newFailingPublisher?(): Publisher | Promise<Publisher>;
  /**
   * The values stored at `destination` that belong to one test run (they contain `runId`), in
   * the order the broker keeps them; omit when the broker cannot be read back.
   */
  readBack?(destination: string, runId: string): Promise<string[]>;
  /** How many requests reached the broker so far, if the harness can observe it. */
  requestCount?(): number | Promise<number>;
  /** Size in bytes of a value the adapter must refuse as `payload_too_large`. */
  readonly oversizedValueBytes?: number;
  /** Cases this adapter cannot run, each with the reason. */
  readonly skip?: Partial<Record<PublisherContractCase, string>>;
}

/** A small CloudEvent-shaped JSON value (queues need JSON bodies). */
export function contractMessage(runId: string, index: number, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  const id = `${runId}-${index}`;
  const value = JSON.stringify({
    specversion: "1.0",
    id,
    source: "urn:edgebus:contract",
    type: "gov.test.contract.published",
    time: "2026-11-22T08:00:00.000Z",
    data: { run: runId, index },
  });
  return { id: `urn:edgebus:contract\u0000${id}`, value, ...extra };
}

function newRunId(): string {
  return crypto.randomUUID();
}

export function runPublisherContract(harness: PublisherContractHarness): void {
  const [first, second] = harness.destinations;

  const contractCase = (name: PublisherContractCase, title: string, body: () => Promise<void>, timeout = 30_000) => {
    const reason = harness.skip?.[name];
    if (reason !== undefined) {
      it.skip(`${title} — skipped: ${reason}`, body);
      return;
    }
    it(title, body, timeout);
  };

  async function withPublisher<T>(use: (publisher: Publisher) => Promise<T>): Promise<T> {
    const publisher = await harness.newPublisher();
    try {
      return await use(publisher);
    } finally {
      await publisher.close();
    }
  }

  function expectReceiptsInOrder(receipts: PublishReceipt[], destination: string, count: number) {
    expect(receipts).toHaveLength(count);
    for (const receipt of receipts) expect(receipt.destination).toBe(destination);
    // Same key → same partition → offsets strictly increase in input order (brokers with offsets).
    const withOffsets = receipts.filter((receipt) => receipt.offset !== null);
    if (withOffsets.length > 0) {
      expect(withOffsets).toHaveLength(count);
      const partitions = new Set(receipts.map((receipt) => receipt.partition));
      expect(partitions.size).toBe(1);
      for (let i = 1; i < receipts.length; i++) {
        expect(receipts[i]?.offset).toBeGreaterThan(receipts[i - 1]?.offset ?? Number.POSITIVE_INFINITY);
      }
    } else {
      for (const receipt of receipts) expect(receipt).toEqual({ destination, partition: null, offset: null });
    }
  }

  async function expectStored(destination: string, runId: string, messages: OutgoingMessage[]) {
    if (!harness.readBack) return;
    const stored = await harness.readBack(destination, runId);
    expect(stored).toEqual(messages.map((message) => message.value));
  }

  describe(`Publisher contract: ${harness.name}`, () => {
    contractCase("receipts-in-order", "returns one receipt per message, in input order", async () => {
      const runId = newRunId();
      const messages = Array.from({ length: 5 }, (_, i) =>
        contractMessage(runId, i, { key: `citizen-${runId}`, headers: { ce_id: `${runId}-${i}` } }),
      );
      const receipts = await withPublisher((publisher) => publisher.publish(first, messages));
      expectReceiptsInOrder(receipts, first, messages.length);
      await expectStored(first, runId, messages);
    });

    contractCase("empty-batch", "resolves an empty batch to [] without talking to the broker", async () => {
      await withPublisher(async (publisher) => {
        const before = await harness.requestCount?.();
        expect(await publisher.publish(first, [])).toEqual([]);
        if (before !== undefined) expect(await harness.requestCount?.()).toBe(before);
      });
    });

    contractCase("separate-destinations", "keeps destinations apart", async () => {
      const runId = newRunId();
      const toFirst = [contractMessage(runId, 0), contractMessage(runId, 1)];
      const toSecond = [contractMessage(runId, 2)];
      await withPublisher(async (publisher) => {
        const [a, b] = await Promise.all([publisher.publish(first, toFirst), publisher.publish(second, toSecond)]);
        expect(a.map((receipt) => receipt.destination)).toEqual([first, first]);
        expect(b.map((receipt) => receipt.destination)).toEqual([second]);
      });
      await expectStored(first, runId, toFirst);
      await expectStored(second, runId, toSecond);
    });

    contractCase("large-batch-chunked", "publishes a batch larger than one broker request allows", async () => {
      const runId = newRunId();
      // 250 messages of ~2 KB: more than 100 messages and more than 256 KB.
      const padding = "x".repeat(2_000);
      const messages = Array.from({ length: 250 }, (_, i) =>
        contractMessage(runId, i, {
          key: `citizen-${runId}`,
          value: JSON.stringify({ ...JSON.parse(contractMessage(runId, i).value), padding }),
        }),
      );
      const receipts = await withPublisher((publisher) => publisher.publish(first, messages));
      expectReceiptsInOrder(receipts, first, messages.length);
      await expectStored(first, runId, messages);
    });

    contractCase("concurrent-publishes", "answers concurrent publish calls each with their own receipts", async () => {
      const runId = newRunId();
      const batches = Array.from({ length: 5 }, (_, b) =>
        Array.from({ length: 3 }, (_, i) => contractMessage(runId, b * 10 + i, { key: `k-${runId}-${b}` })),
      );
      const results = await withPublisher((publisher) =>
        Promise.all(batches.map((batch) => publisher.publish(first, batch))),
      );
      for (const receipts of results) expectReceiptsInOrder(receipts, first, 3);
    });

    contractCase(
      "broker-failure-rejects",
      "rejects with a retryable upstream_unavailable when the broker fails",
      async () => {
        const factory = harness.newFailingPublisher;
        if (!factory) throw new Error("harness has no newFailingPublisher; skip this case with a reason instead");
        const publisher = await factory();
        try {
          const failure = await publisher.publish(first, [contractMessage(newRunId(), 0)]).then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(failure).toBeInstanceOf(EdgebusError);
          expect(failure).toMatchObject({ code: "upstream_unavailable", retryable: true });
        } finally {
          await publisher.close();
        }
      },
    );

    contractCase(
      "oversized-message-rejected",
      "refuses a message over the broker's size limit as payload_too_large",
      async () => {
        const bytes = harness.oversizedValueBytes;
        if (bytes === undefined)
          throw new Error("harness has no oversizedValueBytes; skip this case with a reason instead");
        const runId = newRunId();
        const big = contractMessage(runId, 0, { value: JSON.stringify({ blob: "y".repeat(bytes) }) });
        const failure = await withPublisher((publisher) =>
          publisher.publish(first, [contractMessage(runId, 1), big]).then(
            () => undefined,
            (error: unknown) => error,
          ),
        );
        expect(failure).toBeInstanceOf(EdgebusError);
        expect(failure).toMatchObject({ code: "payload_too_large", retryable: false });
      },
    );

    contractCase("publish-after-close-rejects", "rejects publish after close (and close twice is fine)", async () => {
      const publisher = await harness.newPublisher();
      await publisher.close();
      await publisher.close();
      await expect(publisher.publish(first, [contractMessage(newRunId(), 0)])).rejects.toBeInstanceOf(EdgebusError);
      await expect(publisher.publish(first, [])).rejects.toBeInstanceOf(EdgebusError);
    });
  });
}
