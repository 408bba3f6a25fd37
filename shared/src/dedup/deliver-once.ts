import type { PublishReceipt } from "../brokers/publisher.ts";
import { EdgebusError } from "../errors.ts";
import type { DedupStore } from "./dedup-store.ts";

export interface DeliveryOutcome {
  /** `accepted` the first time; `duplicate` when the key was already recorded (complete or resumed). */
  status: "accepted" | "duplicate";
  /** The destinations recorded for the event (the original plan on a retry). */
  destinations: readonly string[];
  /** Receipts of every destination, original ones included. */
  receipts: Readonly<Record<string, PublishReceipt>>;
  /** Destinations published by this call (empty when nothing was missing). */
  publishedNow: readonly string[];
}

export interface DeliverOnceInput {
  store: DedupStore;
  /** The duplicate key (`eventKey(event)`). */
  key: string;
  /** Destinations for a first delivery; ignored when the key is already recorded. */
  plan: readonly string[];
  /** Publishes to one destination; resolves once it acknowledged. */
  publish: (destination: string) => Promise<PublishReceipt>;
  /** How long one request may hold the publishing lease. */
  leaseMs?: number;
  now?: () => Date;
}

/**
 * Effectively-once delivery on the producer side: the event is recorded BEFORE publishing,
 * each acknowledged destination is recorded as it acknowledges, and the record is marked
 * complete when all have. A retry after a partial failure publishes only the missing
 * destinations and answers `duplicate` with the original receipts; a retry after success
 * publishes nothing. A lease (SET NX) keeps two concurrent requests from both publishing: the
 * loser gets 409 `conflict` (retryable) and, on retry, sees the winner's outcome.
 */
export async function deliverOnce(input: DeliverOnceInput): Promise<DeliveryOutcome> {
  const { store, key } = input;
  const seen = await store.get(key);
  if (seen?.complete) {
    return { status: "duplicate", destinations: seen.destinations, receipts: seen.delivered, publishedNow: [] };
  }

  const holder = crypto.randomUUID();
  if (!(await store.acquireLease(key, holder, input.leaseMs ?? 30_000))) {
    throw new EdgebusError("conflict", "an event with this source and id is being published by another request", {
      retryable: true,
      retryAfterSeconds: 1,
    });
  }
  try {
    let record = await store.get(key);
    let status: DeliveryOutcome["status"] = "duplicate";
    if (record === null) {
      const firstSeenAt = (input.now?.() ?? new Date()).toISOString();
      if (!(await store.create(key, input.plan, firstSeenAt))) {
        throw new EdgebusError("conflict", "the event was recorded concurrently; retry", {
          retryable: true,
          retryAfterSeconds: 1,
        });
      }
      record = { destinations: input.plan, delivered: {}, complete: false, firstSeenAt };
      status = "accepted";
    }
    if (record.complete) {
      return { status, destinations: record.destinations, receipts: record.delivered, publishedNow: [] };
    }

    const receipts: Record<string, PublishReceipt> = { ...record.delivered };
    const missing = record.destinations.filter((destination) => receipts[destination] === undefined);
    const results = await Promise.allSettled(
      missing.map(async (destination) => {
        const receipt = await input.publish(destination);
        await store.markDelivered(key, destination, receipt);
        receipts[destination] = receipt;
        return destination;
      }),
    );
    const failed = missing.filter((_, index) => results[index]?.status === "rejected");
    if (failed.length > 0) {
      const firstFailure = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
      throw new EdgebusError(
        "upstream_unavailable",
        `publishing failed for ${failed.join(", ")}; retry the same request to complete it`,
        {
          cause: firstFailure.reason,
          retryAfterSeconds: 2,
          details: { failed, delivered: Object.keys(receipts) },
        },
      );
    }
    await store.markComplete(key);
    return { status, destinations: record.destinations, receipts, publishedNow: missing };
  } finally {
    // A lost release is harmless: the lease expires by itself.
    await store.releaseLease(key, holder).catch(() => undefined);
  }
}
