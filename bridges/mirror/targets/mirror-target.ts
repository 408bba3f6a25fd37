import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { EdgebusError, toEdgebusError } from "#shared/errors.ts";
import { errorLogFields, type Logger, withoutCredentials } from "#shared/log.ts";
import type { TopicMapping } from "../topic-mapping.ts";

/**
 * One broker the mirror writes into (`mirror.targets` in the bridge config). The mirror route
 * (`../mirror-route.ts`) hands every target the events its own topic mapping keeps and acks an
 * event to the kafka-mirror Worker only when every target that keeps it confirmed it.
 *
 * Guarantees every adapter gives (the contract suite, `contract.test.ts`, checks them against the
 * real brokers with their own clients):
 * - **Confirmed means stored.** `deliver()` answers `ok` for an event only after the broker said
 *   it holds it: Kafka `acks=all`; RabbitMQ a publisher confirm for a persistent message on a
 *   durable exchange; JetStream the `PubAck` of the stream; Redis the reply to the `XADD` script
 *   (durable as far as the Redis server's own persistence settings make it).
 * - **One outcome per delivery**, in input order; `deliver()` never rejects (a broker error
 *   becomes a failed outcome with an `EdgebusError` that says whether a retry can help).
 * - **Per-key order**: deliveries are written in input order wherever they share an ordered
 *   destination (Kafka partition by `partitionkey`, RabbitMQ channel → queue, JetStream subject,
 *   Redis stream).
 * - **Redelivery**: the Worker resends a whole batch when any event or target failed. JetStream
 *   (`Nats-Msg-Id` = source + id, within the stream's duplicate window) and Redis Streams (a
 *   source + id marker with a TTL) store no second copy; Kafka and RabbitMQ store another copy
 *   that carries the same CloudEvents `id` and `source`, so consumers deduplicate on those.
 * - **Reconnects by itself**: a broker that goes away makes deliveries fail (retryable) until it
 *   is back; no restart of the bridge is needed.
 */
export type TargetKind = "kafka" | "rabbitmq" | "nats" | "redis-streams";

export interface MirrorDelivery {
  readonly event: CloudEventRecord;
  /** The edge topic (`topicForType(type)`) after this target's mapping; never an excluded one. */
  readonly topic: string;
}

export type DeliveryOutcome =
  | {
      readonly ok: true;
      /** The broker recognised a redelivery and kept its first copy (JetStream, Redis Streams). */
      readonly duplicate?: boolean;
      /** Where the broker put it, when it says (Kafka partition and offset, stream sequence or entry id). */
      readonly receipt?: { readonly topic: string; readonly partition?: number; readonly offset?: number | string };
    }
  | { readonly ok: false; readonly error: EdgebusError };

export interface MirrorTarget {
  /** Unique among the targets: the label of its health check and metrics (default: the kind). */
  readonly name: string;
  readonly kind: TargetKind;
  /** include / exclude / rename on edge topics, per target. */
  readonly mapping: TopicMapping;
  /** True while the target refuses new work (its queue is full): the route answers 503 + Retry-After. */
  readonly saturated: boolean;
  /** True while the client holds a working connection to the broker (the `up` metric). */
  readonly connected: boolean;
  /** Writes the deliveries; see the guarantees above. */
  deliver(deliveries: readonly MirrorDelivery[]): Promise<DeliveryOutcome[]>;
  /** Resolves when the broker answers now (`/healthz`); rejects with the reason otherwise. */
  probe(): Promise<void>;
  /** Waits for writes in flight, then closes the connection. */
  close(): Promise<void>;
}

/**
 * The routing key / subject of an event at a target whose names follow the type: the type with
 * its topic part replaced by the mapped topic (so `rename: gov.* → onprem.gov.*` gives
 * `onprem.gov.auth.citizen.created`; without a rename it is the type itself).
 */
export function destinationType(event: CloudEventRecord, edgeTopic: string, mappedTopic: string): string {
  return event.type.startsWith(`${edgeTopic}.`) ? `${mappedTopic}${event.type.slice(edgeTopic.length)}` : event.type;
}

/** The same error for every delivery (a whole batch refused by the broker). */
export function allFailed(count: number, error: unknown): DeliveryOutcome[] {
  const failure = toEdgebusError(error);
  return Array.from({ length: count }, () => ({ ok: false as const, error: failure }));
}

/** A target's "the broker cannot be reached now" error (503, retryable). */
export function unavailable(target: string, detail: string, cause?: unknown): EdgebusError {
  return new EdgebusError("upstream_unavailable", `mirror target ${target}: ${detail}`, {
    cause,
    retryAfterSeconds: 1,
  });
}

/** Groups deliveries by a key keeping input order inside each group, with each one's input index. */
export function groupInOrder<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
): Map<string, { index: number; item: T }[]> {
  const groups = new Map<string, { index: number; item: T }[]>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push({ index, item });
    else groups.set(key, [{ index, item }]);
  });
  return groups;
}

/** Bytes of an event's body as a broker would carry it (a size check before sending). */
export function byteLength(body: string | Uint8Array): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
}

/** What a target with a self-reconnecting client logs about its connection (`connectionProblems`). */
export interface ConnectionProblems {
  /** The problem while it lasts. */
  readonly lastError: string | undefined;
  /** The client reported `error` and is reconnecting. */
  failed(error: unknown): void;
  /** The client (re)connected. */
  connected(): void;
}

/**
 * One warning per distinct connection problem (not one per reconnect attempt) and one line when
 * the connection is back; `broker` names it in the lines (`RabbitMQ`), `destination` is the target.
 */
export function connectionProblems(log: Logger, broker: string, destination: string, url: string): ConnectionProblems {
  let lastError: string | undefined;
  return {
    get lastError() {
      return lastError;
    },
    failed(error) {
      const message = (error as Error).message;
      if (message !== lastError) {
        log.log("warn", `${broker} connection problem; reconnecting`, {
          destination,
          url: withoutCredentials(url),
          ...errorLogFields(error),
        });
      }
      lastError = message;
    },
    connected() {
      if (lastError !== undefined) log.log("info", `${broker} connection back`, { destination });
      lastError = undefined;
    },
  };
}
