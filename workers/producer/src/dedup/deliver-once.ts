import { EdgebusError, toEdgebusError } from "#shared/errors.ts";
import type { RateLimitDecision } from "../auth/rate-limiter.ts";
import type { PublishReceipt } from "../brokers/publisher.ts";
import type { Admission, BeginResult, DedupStore, FinishItem } from "./dedup-store.ts";

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

/** The rate limit refused the request (nothing was begun or published), or one result per request. */
export type DeliverManyResult =
  | { readonly admitted: false; readonly decision: RateLimitDecision }
  | { readonly admitted: true; readonly results: DeliveryResult[] };

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
  /**
   * The request's rate limit, taken in the same store call as the begins. When that call fails,
   * `deliverMany` rejects with the store's error (the caller decides whether to go on without
   * the limit); without an admission a failed begin is each event's error instead.
   */
  admission?: Admission;
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
 * per event and destination (Workers limit subrequests per invocation), and two store calls in
 * all (`beginMany` with the rate limit, `finishMany`). Repeated keys within one
 * call are delivered once; the later copies answer `duplicate` with the same receipts (or the
 * same error).
 *
 * If the process dies between publishing and `finish`, that attempt's progress is lost and a
 * retry publishes those destinations again once the lease expires: at-least-once, never lost;
 * consumers deduplicate on `source` + `id`.
 */
export async function deliverMany(input: DeliverManyInput): Promise<DeliverManyResult> {
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

  // One lease holder for the call: its keys are distinct, and another request has another holder.
  const holder = crypto.randomUUID();
  // Per request index (leaders only): what `beginMany` answered.
  const begun: (BeginResult | EdgebusError | undefined)[] = new Array(requests.length);
  try {
    const answer = await store.beginMany(
      leaders.map((index) => ({
        key: (requests[index] as DeliveryRequest).key,
        holder,
        plan: (requests[index] as DeliveryRequest).plan,
      })),
      { firstSeenAt, leaseMs, ...(input.admission === undefined ? {} : { admission: input.admission }) },
    );
    if (!answer.admitted) return { admitted: false, decision: answer.decision };
    answer.results.forEach((result, position) => {
      begun[leaders[position] as number] = result;
    });
  } catch (error) {
    if (input.admission !== undefined) throw toEdgebusError(error);
    for (const index of leaders) begun[index] = toEdgebusError(error);
  }

  // Destination → events still missing it.
  const pending = new Map<string, number[]>();
  const owned: number[] = [];
  for (const index of leaders) {
    const state = begun[index];
    if (state === undefined || state instanceof EdgebusError || state.kind !== "owned") continue;
    owned.push(index);
    for (const destination of state.record.destinations) {
      if (state.record.delivered[destination] !== undefined) continue;
      const indices = pending.get(destination) ?? [];
      indices.push(index);
      pending.set(destination, indices);
    }
  }

  const sent = new Map<string, Sent>();
  await Promise.all(
    [...pending].map(async ([destination, indices]) => {
      const outcome: Sent = { indices, next: 0 };
      sent.set(destination, outcome);
      try {
        const receipts = await input.publish(destination, indices);
        if (receipts.length !== indices.length) {
          throw new EdgebusError(
            "upstream_unavailable",
            `${destination} returned ${receipts.length} receipts for ${indices.length} events`,
          );
        }
        outcome.receipts = receipts;
      } catch (cause) {
        outcome.cause = cause;
      }
    }),
  );

  // Each owned event's receipts and failures, in its plan's order (so records of one plan build
  // their receipts the same way). A destination's events were listed in leader order by the same
  // walk, so a cursor per destination finds each event's position without a lookup.
  const deliveredNow: (Record<string, PublishReceipt> | undefined)[] = new Array(requests.length);
  const failedNow: ({ destinations: string[]; cause: unknown } | undefined)[] = new Array(requests.length);
  for (const index of owned) {
    const { record } = begun[index] as Extract<BeginResult, { kind: "owned" }>;
    let delivered: Record<string, PublishReceipt> | undefined;
    let failed: { destinations: string[]; cause: unknown } | undefined;
    for (const destination of record.destinations) {
      if (record.delivered[destination] !== undefined) continue;
      const outcome = sent.get(destination) as Sent;
      const position = outcome.next++;
      if (outcome.indices[position] !== index) throw new EdgebusError("internal", "delivery bookkeeping out of step");
      if (outcome.receipts !== undefined) {
        delivered ??= {};
        delivered[destination] = outcome.receipts[position] as PublishReceipt;
      } else {
        failed ??= { destinations: [], cause: outcome.cause };
        failed.destinations.push(destination);
      }
    }
    deliveredNow[index] = delivered;
    failedNow[index] = failed;
  }

  // Every owned event's progress in one store call; what was published stays published if it fails.
  const finishing: FinishItem[] = owned.map((index) => ({
    key: (requests[index] as DeliveryRequest).key,
    holder,
    delivered: deliveredNow[index] ?? {},
    complete: failedNow[index] === undefined,
  }));
  try {
    await input.store.finishMany(finishing);
  } catch (error) {
    // Answering an error here would make the client retry and publish it again. The records keep
    // their leases until they expire, so a retry meanwhile gets 409; after that the missing
    // receipts make it publish again (at least once).
    for (const item of finishing) input.onFinishFailed?.(item.key, toEdgebusError(error));
  }

  const leaderResults = new Map<number, DeliveryResult>();
  for (const index of leaders) leaderResults.set(index, settle(index));

  function settle(index: number): DeliveryResult {
    const state = begun[index];
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
    const delivered = deliveredNow[index] ?? {};
    const failed = failedNow[index];
    // Nothing was delivered before (a new event): this call's receipts are all of them.
    const receipts = isEmpty(record.delivered) ? delivered : { ...record.delivered, ...delivered };
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

  const results = requests.map((request, index): DeliveryResult => {
    const leader = firstIndexOf.get(request.key) as number;
    const result = leaderResults.get(leader) as DeliveryResult;
    if (leader === index || !result.ok) return result;
    return { ok: true, outcome: { ...result.outcome, status: "duplicate", publishedNow: [] } };
  });
  return { admitted: true, results };
}

/** One destination's publish call: its events (request indices, leader order) and what came back. */
interface Sent {
  readonly indices: readonly number[];
  receipts?: readonly PublishReceipt[];
  cause?: unknown;
  /** How many of `indices` have been read back so far. */
  next: number;
}

function isEmpty(record: Readonly<Record<string, unknown>>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
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
  const answer = await deliverMany({
    store: input.store,
    requests: [{ key: input.key, plan: input.plan }],
    publish: async (destination) => [await input.publish(destination)],
    ...(input.leaseMs === undefined ? {} : { leaseMs: input.leaseMs }),
    ...(input.now === undefined ? {} : { now: input.now }),
  });
  const result = answer.admitted ? answer.results[0] : undefined;
  if (result === undefined) throw new EdgebusError("internal", "no delivery result");
  if (!result.ok) throw result.error;
  return result.outcome;
}
