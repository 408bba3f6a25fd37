import { EdgebusError, toEdgebusError } from "#shared/errors.ts";
import type { PublishReceipt } from "../brokers/publisher.ts";
import type { BeginResult, DedupStore } from "./dedup-store.ts";

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

export type DeliveryResult = { ok: true; outcome: DeliveryOutcome } | { ok: false; error: EdgebusError };

export interface DeliveryRequest {
  /** The duplicate key (`eventKey(event)`). */
  readonly key: string;
  /** Destinations for a first delivery; ignored when the key is already recorded. */
  readonly plan: readonly string[];
}

export interface DeliverManyInput {
  store: DedupStore;
  requests: readonly DeliveryRequest[];
  /**
   * Publishes the events at `indices` (positions in `requests`) to one destination in one call
   * and resolves with one receipt per index, in order, once the destination acknowledged all.
   */
  publish: (destination: string, indices: readonly number[]) => Promise<readonly PublishReceipt[]>;
  /** How long one request may hold an event's publishing lease. */
  leaseMs?: number;
  now?: () => Date;
  /** Told when recording the outcome failed after publishing (the outcome is still answered). */
  onFinishFailed?: (key: string, error: EdgebusError) => void;
}

/**
 * Effectively-once delivery on the producer side, for one event or a batch.
 *
 * Each event is recorded BEFORE publishing (`DedupStore.begin`), the receipts of the
 * destinations that acknowledged are recorded afterwards and the record is marked complete when
 * all have (`finish`). A retry after a partial failure publishes only the missing destinations
 * and answers `duplicate` with the original receipts; a retry after success publishes nothing. A
 * lease keeps two concurrent requests from both publishing: the loser gets 409 `conflict`
 * (retryable) and, on retry, sees the winner's outcome.
 *
 * Events are grouped per destination, so a batch costs one publish call per destination, not one
 * per event and destination (Workers limit subrequests per invocation). Repeated keys within one
 * call are delivered once; the later copies answer `duplicate` with the same receipts (or the
 * same error).
 *
 * If the process dies between publishing and `finish`, that attempt's progress is lost and a
 * retry publishes those destinations again once the lease expires: at-least-once, never lost;
 * consumers deduplicate on `source` + `id`.
 */
export async function deliverMany(input: DeliverManyInput): Promise<DeliveryResult[]> {
  const { store, requests } = input;
  const firstSeenAt = (input.now?.() ?? new Date()).toISOString();
  const leaseMs = input.leaseMs ?? 30_000;

  // The first occurrence of each key does the work; later ones copy its result.
  const firstIndexOf = new Map<string, number>();
  const leaders: number[] = [];
  requests.forEach((request, index) => {
    if (!firstIndexOf.has(request.key)) {
      firstIndexOf.set(request.key, index);
      leaders.push(index);
    }
  });

  const holders = new Map<number, string>();
  const begun = new Map<number, BeginResult | EdgebusError>();
  await Promise.all(
    leaders.map(async (index) => {
      const request = requests[index] as DeliveryRequest;
      const holder = crypto.randomUUID();
      holders.set(index, holder);
      try {
        begun.set(index, await store.begin(request.key, holder, { plan: request.plan, firstSeenAt, leaseMs }));
      } catch (error) {
        begun.set(index, toEdgebusError(error));
      }
    }),
  );

  // Destination → events still missing it.
  const pending = new Map<string, number[]>();
  for (const index of leaders) {
    const state = begun.get(index);
    if (state === undefined || state instanceof EdgebusError || state.kind !== "owned") continue;
    for (const destination of state.record.destinations) {
      if (state.record.delivered[destination] !== undefined) continue;
      const indices = pending.get(destination) ?? [];
      indices.push(index);
      pending.set(destination, indices);
    }
  }

  const deliveredNow = new Map<number, Record<string, PublishReceipt>>();
  const failedNow = new Map<number, { destinations: string[]; cause: unknown }>();
  await Promise.all(
    [...pending].map(async ([destination, indices]) => {
      try {
        const receipts = await input.publish(destination, indices);
        if (receipts.length !== indices.length) {
          throw new EdgebusError(
            "upstream_unavailable",
            `${destination} returned ${receipts.length} receipts for ${indices.length} events`,
          );
        }
        indices.forEach((index, position) => {
          const delivered = deliveredNow.get(index) ?? {};
          delivered[destination] = receipts[position] as PublishReceipt;
          deliveredNow.set(index, delivered);
        });
      } catch (cause) {
        for (const index of indices) {
          const failed = failedNow.get(index) ?? { destinations: [], cause };
          failed.destinations.push(destination);
          failedNow.set(index, failed);
        }
      }
    }),
  );

  const leaderResults = new Map<number, DeliveryResult>();
  await Promise.all(
    leaders.map(async (index) => {
      leaderResults.set(index, await settle(index));
    }),
  );

  async function settle(index: number): Promise<DeliveryResult> {
    const state = begun.get(index);
    if (state === undefined) return { ok: false, error: new EdgebusError("internal", "delivery state missing") };
    if (state instanceof EdgebusError) return { ok: false, error: state };
    if (state.kind === "complete") {
      const { record } = state;
      return {
        ok: true,
        outcome: {
          status: "duplicate",
          destinations: record.destinations,
          receipts: record.delivered,
          publishedNow: [],
        },
      };
    }
    if (state.kind === "busy") {
      return {
        ok: false,
        error: new EdgebusError("conflict", "an event with this source and id is being published by another request", {
          retryable: true,
          retryAfterSeconds: 1,
        }),
      };
    }
    const { record, created } = state;
    const delivered = deliveredNow.get(index) ?? {};
    const failed = failedNow.get(index);
    try {
      await store.finish(
        (requests[index] as DeliveryRequest).key,
        holders.get(index) as string,
        delivered,
        failed === undefined,
      );
    } catch (error) {
      // What was published stays published: answering an error here would make the client
      // retry and publish it again. The record keeps its lease until it expires, so a retry
      // meanwhile gets 409; after that the missing receipts make it publish again (at least once).
      input.onFinishFailed?.((requests[index] as DeliveryRequest).key, toEdgebusError(error));
    }
    const receipts = { ...record.delivered, ...delivered };
    if (failed !== undefined) {
      return {
        ok: false,
        error: new EdgebusError(
          "upstream_unavailable",
          `publishing failed for ${failed.destinations.join(", ")}; retry the same request to complete it`,
          {
            cause: failed.cause,
            retryAfterSeconds: 2,
            details: { failed: failed.destinations, delivered: Object.keys(receipts) },
          },
        ),
      };
    }
    return {
      ok: true,
      outcome: {
        status: created ? "accepted" : "duplicate",
        destinations: record.destinations,
        receipts,
        publishedNow: Object.keys(delivered),
      },
    };
  }

  return requests.map((request, index) => {
    const leader = firstIndexOf.get(request.key) as number;
    const result = leaderResults.get(leader) as DeliveryResult;
    if (leader === index || !result.ok) return result;
    return { ok: true, outcome: { ...result.outcome, status: "duplicate", publishedNow: [] } };
  });
}

export interface DeliverOnceInput {
  store: DedupStore;
  key: string;
  plan: readonly string[];
  /** Publishes to one destination; resolves once it acknowledged. */
  publish: (destination: string) => Promise<PublishReceipt>;
  leaseMs?: number;
  now?: () => Date;
}

/** `deliverMany` for a single event; rejects with the event's error. */
export async function deliverOnce(input: DeliverOnceInput): Promise<DeliveryOutcome> {
  const [result] = await deliverMany({
    store: input.store,
    requests: [{ key: input.key, plan: input.plan }],
    publish: async (destination) => [await input.publish(destination)],
    ...(input.leaseMs === undefined ? {} : { leaseMs: input.leaseMs }),
    ...(input.now === undefined ? {} : { now: input.now }),
  });
  if (result === undefined) throw new EdgebusError("internal", "no delivery result");
  if (!result.ok) throw result.error;
  return result.outcome;
}
