/**
 * An at-least-once producer client, as a careful publisher would write one: every event is sent
 * until the API answers 202 (`accepted` or `duplicate`); 5xx, 429, 409 and network errors are
 * retried with the SAME event (same `source` + `id`), honouring `Retry-After`. A key's next event
 * is sent only after the previous one was acknowledged, so the per-key order in Kafka is defined.
 *
 * Requests are a mix of `POST /v1/events` (one event) and `POST /v1/events/batch` (events of
 * different keys), paced to spread `total` events over `durationMs`.
 */
import type { KeySequence, PlannedEvent, Workload } from "./workload.ts";

export interface SendStats {
  /** Distinct events handed to the API at least once. */
  sent: number;
  requests: number;
  batchRequests: number;
  /** Events whose first 202 said `accepted`. */
  accepted: number;
  /** Events whose first 202 said `duplicate` (an earlier attempt got through but its answer was lost). */
  acceptedAsDuplicate: number;
  /** All `duplicate` answers, also to retries of already-acknowledged events (none expected). */
  duplicateAnswers: number;
  /** Attempts retried, by reason (`503`, `409`, `429`, `network`, …). */
  retries: Record<string, number>;
  /** Events refused with a non-retryable 4xx: a bug in the workload or the API. */
  rejected: { id: string; status: number; message: string }[];
  /** Events still unacknowledged when the client gave up (its deadline passed). */
  gaveUp: string[];
}

export interface SendOptions {
  producer: string;
  apiKey: string;
  durationMs: number;
  concurrency: number;
  /** Per-event deadline after which the client stops retrying. */
  giveUpAfterMs: number;
  random: () => number;
  /** Called with each event as it is acknowledged (the order of acknowledgement). */
  onAck?: (event: PlannedEvent) => void;
}

interface ItemResult {
  status: number;
  receipt?: { status: "accepted" | "duplicate" };
  error?: { message: string };
  retryAfterMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  const seconds = header === null ? Number.NaN : Number(header);
  return Number.isFinite(seconds) ? Math.min(5000, seconds * 1000) : undefined;
}

async function post(options: SendOptions, events: readonly PlannedEvent[], asBatch: boolean): Promise<ItemResult[]> {
  const headers = {
    authorization: `Bearer ${options.apiKey}`,
    "content-type": asBatch ? "application/cloudevents-batch+json" : "application/cloudevents+json",
  };
  const body = JSON.stringify(asBatch ? events.map((e) => e.event) : events[0]?.event);
  let response: Response;
  try {
    response = await fetch(`${options.producer}/v1/events${asBatch ? "/batch" : ""}`, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    return events.map(() => ({ status: 0 }));
  }
  const wait = retryAfterMs(response);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    return events.map(() => ({ status: response.status >= 200 && response.status < 300 ? 502 : response.status }));
  }
  if (asBatch && response.status === 200) {
    const results = (json as { results: ItemResult[] }).results;
    return events.map((_, i) => results[i] ?? { status: 502 });
  }
  if (!asBatch && response.status === 202) return [{ status: 202, receipt: json as ItemResult["receipt"] }];
  const error = (json as { error?: { message: string } }).error;
  return events.map(() => ({ status: response.status, error, retryAfterMs: wait }));
}

/** Sends the whole workload; resolves when every event is acknowledged, rejected or given up. */
export async function sendWorkload(workload: Workload, options: SendOptions): Promise<SendStats> {
  const stats: SendStats = {
    sent: 0,
    requests: 0,
    batchRequests: 0,
    accepted: 0,
    acceptedAsDuplicate: 0,
    duplicateAnswers: 0,
    retries: {},
    rejected: [],
    gaveUp: [],
  };
  const started = Date.now();
  const positions = new Map<KeySequence, number>();
  const firstTried = new Map<string, number>();
  const acknowledged = new Set<string>();
  /** Sequences whose next event may go out now, with the earliest time to send it. */
  const ready: { sequence: KeySequence; notBefore: number }[] = workload.sequences.map((sequence) => ({
    sequence,
    notBefore: 0,
  }));
  let inFlight = 0;
  let handedOut = 0;

  const take = (max: number): KeySequence[] => {
    const now = Date.now();
    const taken: KeySequence[] = [];
    for (let i = 0; i < ready.length && taken.length < max; ) {
      const entry = ready[i] as (typeof ready)[number];
      if (entry.notBefore <= now) {
        taken.push(entry.sequence);
        ready.splice(i, 1);
      } else i++;
    }
    return taken;
  };

  async function worker(): Promise<void> {
    while (ready.length > 0 || inFlight > 0) {
      // Pacing: new events go out no faster than total / duration; retries are never held back.
      const allowed = Math.ceil((workload.total * (Date.now() - started)) / options.durationMs);
      const asBatch = options.random() < 0.5;
      const max = asBatch ? 2 + Math.floor(options.random() * 39) : 1;
      const sequences = take(max).filter((sequence) => {
        const event = sequence.events[positions.get(sequence) ?? 0] as PlannedEvent;
        if (firstTried.has(event.event.id) || handedOut < allowed) return true;
        ready.push({ sequence, notBefore: Date.now() + 50 });
        return false;
      });
      if (sequences.length === 0) {
        await sleep(20);
        continue;
      }
      inFlight++;
      const events = sequences.map((sequence) => sequence.events[positions.get(sequence) ?? 0] as PlannedEvent);
      for (const { event } of events) {
        if (!firstTried.has(event.id)) {
          firstTried.set(event.id, Date.now());
          handedOut++;
          stats.sent++;
        }
      }
      stats.requests++;
      if (sequences.length > 1 || asBatch) stats.batchRequests++;
      const results = await post(options, events, sequences.length > 1 || asBatch);
      results.forEach((result, i) => {
        const sequence = sequences[i] as KeySequence;
        const planned = events[i] as PlannedEvent;
        const { id } = planned.event;
        if (result.status === 202 && result.receipt) {
          if (result.receipt.status === "duplicate") stats.duplicateAnswers++;
          if (!acknowledged.has(id)) {
            acknowledged.add(id);
            if (result.receipt.status === "accepted") stats.accepted++;
            else stats.acceptedAsDuplicate++;
            options.onAck?.(planned);
          }
          const next = (positions.get(sequence) ?? 0) + 1;
          positions.set(sequence, next);
          if (next < sequence.events.length) ready.push({ sequence, notBefore: 0 });
          return;
        }
        const reason = result.status === 0 ? "network" : String(result.status);
        if (result.status === 0 || RETRYABLE.has(result.status)) {
          if (Date.now() - (firstTried.get(id) ?? Date.now()) > options.giveUpAfterMs) {
            stats.gaveUp.push(id);
            return;
          }
          stats.retries[reason] = (stats.retries[reason] ?? 0) + 1;
          const backoff = result.retryAfterMs ?? 250 + Math.floor(options.random() * 750);
          ready.push({ sequence, notBefore: Date.now() + backoff });
          return;
        }
        stats.rejected.push({ id, status: result.status, message: result.error?.message ?? "" });
      });
      inFlight--;
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  return stats;
}
