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
 * Effectively-once delivery on the producer side: the event is recorded BEFORE publishing
 * (`begin`), the receipts of the destinations that acknowledged are recorded afterwards and the
 * record is marked complete when all have (`finish`). A retry after a partial failure publishes
 * only the missing destinations and answers `duplicate` with the original receipts; a retry
 * after success publishes nothing. A lease (SET NX) keeps two concurrent requests from both
 * publishing: the loser gets 409 `conflict` (retryable) and, on retry, sees the winner's outcome.
 *
 * If the process dies between publishing and `finish`, the progress of that attempt is lost and
 * a retry publishes those destinations again (after the lease expires): at-least-once, never
 * lost; consumers deduplicate on `source` + `id`.
 */
export async function deliverOnce(input: DeliverOnceInput): Promise<DeliveryOutcome> {
  const { store, key } = input;
  const holder = crypto.randomUUID();
  const begun = await store.begin(key, holder, {
    plan: input.plan,
    firstSeenAt: (input.now?.() ?? new Date()).toISOString(),
    leaseMs: input.leaseMs ?? 30_000,
  });
  if (begun.kind === "complete") {
    const { record } = begun;
    return { status: "duplicate", destinations: record.destinations, receipts: record.delivered, publishedNow: [] };
  }
  if (begun.kind === "busy") {
    throw new EdgebusError("conflict", "an event with this source and id is being published by another request", {
      retryable: true,
      retryAfterSeconds: 1,
    });
  }

  const { record, created } = begun;
  const status: DeliveryOutcome["status"] = created ? "accepted" : "duplicate";
  const missing = record.destinations.filter((destination) => record.delivered[destination] === undefined);
  const results = await Promise.allSettled(missing.map((destination) => input.publish(destination)));
  const deliveredNow: Record<string, PublishReceipt> = {};
  const failed: string[] = [];
  results.forEach((result, index) => {
    const destination = missing[index] as string;
    if (result.status === "fulfilled") deliveredNow[destination] = result.value;
    else failed.push(destination);
  });
  await store.finish(key, holder, deliveredNow, failed.length === 0);

  const receipts = { ...record.delivered, ...deliveredNow };
  if (failed.length > 0) {
    const firstFailure = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    throw new EdgebusError(
      "upstream_unavailable",
      `publishing failed for ${failed.join(", ")}; retry the same request to complete it`,
      { cause: firstFailure.reason, retryAfterSeconds: 2, details: { failed, delivered: Object.keys(receipts) } },
    );
  }
  return { status, destinations: record.destinations, receipts, publishedNow: missing };
}
