/**
 * The producer's core step for parsed events: scope check, normalisation against the catalogue
 * and routing per event, then effectively-once delivery of all of them together (one publish
 * call per destination, two Redis round trips per request with the rate limit).
 */

import { type CloudEventRecord, eventKey } from "#shared/envelope/cloud-event.ts";
import { QUEUE_BODY_CONTENT_TYPE, toQueueMessage } from "#shared/envelope/queue-message.ts";
import { EdgebusError, isEdgebusError, toEdgebusError } from "#shared/errors.ts";
import { createLogger, errorLogFields } from "#shared/log.ts";
import type { QueueName } from "#shared/names.ts";
import { routeEvent } from "#shared/routing/router.ts";
import type { Receipt } from "./api-schemas.ts";
import { assertMayPublish, type Principal } from "./auth/authenticate.ts";
import { scopePatternMatches } from "./auth/scope-pattern.ts";
import { utf8Bytes } from "./brokers/publish-guard.ts";
import type { OutgoingMessage, PublishReceipt } from "./brokers/publisher.ts";
import type { QueueMessage } from "./brokers/queue-publisher.ts";
import type { Capabilities } from "./capabilities.ts";
import type { Admission } from "./dedup/dedup-store.ts";
import { deliverMany } from "./dedup/deliver-once.ts";
import type { IncomingEvent } from "./envelope/http-binding.ts";
import { toKafkaBinaryMessage } from "./envelope/kafka-binding.ts";
import { normaliseEventWithJson } from "./envelope/normalise.ts";
import { upcastEvent } from "./envelope/upcast.ts";
import { refuseReservedAttributes, stampPublisher } from "./publisher-stamp.ts";
import { admissionFor, onRateLimiterFailure, rateLimitRefusal } from "./rate-limit.ts";
import { SubscriptionRouter, WEBHOOK_DESTINATION } from "./subscriptions/subscription-router.ts";
import type { RoutableSubscription } from "./subscriptions/subscription-store.ts";

const publishLog = createLogger({ component: "producer" });

const QUEUE_PREFIX = "queue:";
const KAFKA_PREFIX = "kafka:";

export type PublishResult = { ok: true; receipt: Receipt } | { ok: false; error: EdgebusError };

interface Prepared {
  event: CloudEventRecord;
  /** `JSON.stringify(event)`, from normalisation (which measured it). */
  json: string;
  /** The event's queue message, built once for all the queues it goes to (`queueMessageOf`). */
  message?: QueueMessage;
  plan: string[];
  /** The form `data` came in when it was upcast (`seed-v1`). */
  receivedAs?: string;
  /** Webhook subscriptions whose filter matches (their outbox rows are one more destination). */
  subscriptions: readonly RoutableSubscription[];
}

/** `namespacesOfKey` per catalogue and key: both live as long as the isolate's configuration. */
const keyNamespaces = new WeakMap<object, WeakMap<Principal, readonly string[]>>();

/**
 * The catalogues a key publishes into: those with at least one type its `types` scope allows.
 * Short names resolve among these only (`payment.failed` is commerce's for a `commerce.**` key).
 * Worked out once per key and catalogue set, not per event (it matches every type of every
 * catalogue against the key's patterns).
 */
export function namespacesOfKey(caps: Capabilities, principal: Principal): readonly string[] {
  let byKey = keyNamespaces.get(caps.catalogue);
  if (byKey === undefined) {
    byKey = new WeakMap();
    keyNamespaces.set(caps.catalogue, byKey);
  }
  let namespaces = byKey.get(principal);
  if (namespaces === undefined) {
    namespaces = caps.catalogue
      .plugins()
      .filter(({ catalogue }) =>
        catalogue.types().some((type) => principal.types.some((p) => scopePatternMatches(p, type, "type"))),
      )
      .map(({ catalogue }) => catalogue.namespace);
    byKey.set(principal, namespaces);
  }
  return namespaces;
}

/** Counts an event outcome; types outside the catalogue are one label value (bounded cardinality). */
export function countEvent(caps: Capabilities, type: unknown, outcome: EventOutcome, by = 1): void {
  const resolved = typeof type === "string" ? caps.catalogue.resolveType(type) : undefined;
  const known = resolved !== undefined && caps.catalogue.get(resolved) !== undefined;
  caps.metrics.events.inc({ type: known ? resolved : "unknown", outcome }, by);
}

type EventOutcome = "accepted" | "duplicate" | "rejected";
const OUTCOMES: readonly EventOutcome[] = ["accepted", "duplicate", "rejected"];

/**
 * The delivered events of one request, counted per type and written to the metric once per type
 * and outcome: a batch of 100 events of one type is one metric write, not 100 label lookups.
 */
class OutcomeTally {
  readonly #counts = new Map<string, Record<EventOutcome, number>>();

  add(type: string, outcome: EventOutcome): void {
    let counts = this.#counts.get(type);
    if (counts === undefined) {
      counts = { accepted: 0, duplicate: 0, rejected: 0 };
      this.#counts.set(type, counts);
    }
    counts[outcome] += 1;
  }

  write(caps: Capabilities): void {
    for (const [type, counts] of this.#counts) {
      for (const outcome of OUTCOMES) if (counts[outcome] > 0) countEvent(caps, type, outcome, counts[outcome]);
    }
  }
}

function prepare(
  caps: Capabilities,
  principal: Principal,
  incoming: IncomingEvent,
  subscriptionList: readonly RoutableSubscription[],
): Prepared {
  // Aliases and other forms of a type first: the scope check sees the full type and final source.
  const namespaces = namespacesOfKey(caps, principal);
  const { attributes, receivedAs } = upcastEvent(incoming, caps.catalogue, { namespaces });
  assertMayPublish(principal, { source: String(attributes.source), type: String(attributes.type) });
  refuseReservedAttributes(attributes);
  // Stamped before normalising, so the queue-size limit counts the stamp too.
  const { event, json } = normaliseEventWithJson(stampPublisher(attributes, principal), caps.catalogue, {
    mode: incoming.mode,
  });
  const route = routeEvent(caps.catalogue.routesFor(event.type), event, {
    kafkaEnabled: caps.kafka !== null,
    topicOf: (type) => caps.catalogue.topicFor(type),
  });
  const plan = route.queues.map(queueDestination);
  if (route.kafkaTopic !== null) plan.push(`${KAFKA_PREFIX}${route.kafkaTopic}`);
  const subscriptions = SubscriptionRouter.matching(subscriptionList, event);
  if (subscriptions.length > 0) plan.push(WEBHOOK_DESTINATION);
  const prepared: Prepared = { event, json, plan, subscriptions };
  if (receivedAs !== undefined) prepared.receivedAs = receivedAs;
  return prepared;
}

/** Writes the outbox rows of `items` for their matching subscriptions (`subscription-router.ts`). */
async function publishToSubscriptions(caps: Capabilities, items: readonly Prepared[]): Promise<PublishReceipt[]> {
  try {
    if (caps.subscriptions === null) {
      throw new EdgebusError("upstream_unavailable", "webhook subscriptions need Postgres: bind HYPERDRIVE");
    }
    await caps.subscriptions.deliver(items.map(({ event, subscriptions }) => ({ event, subscriptions })));
    return items.map(() => ({ destination: WEBHOOK_DESTINATION, partition: null, offset: null }));
  } catch (error) {
    publishLog.log("error", "publish failed", {
      destination: WEBHOOK_DESTINATION,
      count: items.length,
      ...(items[0] === undefined ? {} : { event_id: items[0].event.id, event_source: items[0].event.source }),
      ...errorLogFields(error),
    });
    if (isEdgebusError(error) && error.code === "upstream_unavailable") throw error;
    throw new EdgebusError("upstream_unavailable", "the webhook outbox did not accept the events", { cause: error });
  }
}

/** `queue:<name>` per queue, one string each (plans and the dedup records share them). */
const queueDestinations = new Map<string, string>();

function queueDestination(queue: string): string {
  let destination = queueDestinations.get(queue);
  if (destination === undefined) {
    destination = `${QUEUE_PREFIX}${queue}`;
    queueDestinations.set(queue, destination);
  }
  return destination;
}

/** The event's queue message, built once: an event routed to five queues is not prepared five times. */
function queueMessageOf(item: Prepared): QueueMessage {
  if (item.message === undefined) {
    // `normaliseEvent` serialised the event to measure it; that text is the message's value and
    // the body every queue is sent.
    item.message = {
      ...toQueueMessage(item.event, item.json),
      bytes: utf8Bytes(item.json),
      request: { body: item.json, contentType: QUEUE_BODY_CONTENT_TYPE },
    };
  }
  return item.message;
}

/** Publishes `events` to one destination in one call (the publishers chunk within broker limits). */
async function publishTo(
  caps: Capabilities,
  destination: string,
  items: readonly Prepared[],
): Promise<readonly PublishReceipt[]> {
  const started = performance.now();
  const kind = destination.startsWith(KAFKA_PREFIX) ? "kafka" : "queue";
  try {
    let receipts: PublishReceipt[];
    if (kind === "kafka") {
      if (caps.kafka === null) {
        // The event was first routed while Kafka was configured; it must not be silently dropped.
        throw new EdgebusError("upstream_unavailable", "Kafka is not configured but this event was routed to it");
      }
      const messages: OutgoingMessage[] = items.map(({ event }) => toKafkaBinaryMessage(event));
      receipts = await caps.kafka.publish(destination.slice(KAFKA_PREFIX.length), messages);
    } else {
      receipts = await caps.queues.publish(destination.slice(QUEUE_PREFIX.length), items.map(queueMessageOf));
    }
    caps.metrics.publishSeconds.observe({ destination: kind, result: "ok" }, (performance.now() - started) / 1000);
    return receipts;
  } catch (error) {
    caps.metrics.publishSeconds.observe({ destination: kind, result: "error" }, (performance.now() - started) / 1000);
    publishLog.log("error", "publish failed", {
      destination,
      count: items.length,
      ...(items[0] === undefined ? {} : { event_id: items[0].event.id, event_source: items[0].event.source }),
      ...errorLogFields(error),
    });
    // Whatever the destination said, the client's recourse is the same: the events are
    // recorded, and retrying the same request completes the missing destinations.
    if (isEdgebusError(error) && error.code === "upstream_unavailable") throw error;
    throw new EdgebusError("upstream_unavailable", `${destination} did not accept the events`, { cause: error });
  }
}

/**
 * The receipt's `queues` for a destination list. Records of one plan share their list (the memory
 * store's do), so consecutive receipts of a batch usually reuse the last answer.
 */
let lastDestinations: readonly string[] | undefined;
let lastQueues: QueueName[] = [];

function queuesOf(destinations: readonly string[]): QueueName[] {
  if (destinations !== lastDestinations) {
    lastQueues = Object.freeze(
      destinations
        .filter((destination) => destination.startsWith(QUEUE_PREFIX))
        .map((destination) => destination.slice(QUEUE_PREFIX.length) as QueueName),
    ) as QueueName[];
    lastDestinations = destinations;
  }
  return lastQueues;
}

function toReceipt(
  { event, receivedAs }: Prepared,
  status: Receipt["status"],
  destinations: readonly string[],
  receipts: Readonly<Record<string, PublishReceipt>>,
): Receipt {
  const kafkaDestination = destinations.find((destination) => destination.startsWith(KAFKA_PREFIX));
  const kafkaReceipt = kafkaDestination === undefined ? undefined : receipts[kafkaDestination];
  const receipt: Receipt = {
    id: event.id,
    type: event.type,
    status,
    kafka:
      kafkaDestination === undefined
        ? null
        : {
            topic: kafkaDestination.slice(KAFKA_PREFIX.length),
            partition: kafkaReceipt?.partition ?? null,
            offset: kafkaReceipt?.offset ?? null,
          },
    queues: queuesOf(destinations),
  };
  // Added, not spread: a spread after other properties copies through the runtime's slow path,
  // which a profile in workerd put at about 2 µs per event of a batch.
  if (receivedAs !== undefined) receipt.received_as = receivedAs;
  return receipt;
}

/**
 * Scope → normalise → route each event, then deliver all that passed. One result per input, in
 * order; nothing throws for a single event's problem. The request's rate limit (`rateLimitCost`
 * events) is taken in the same store call as the dedup records; a refusal throws 429 for the
 * whole request, before anything is recorded or published.
 */
export async function publishEvents(
  caps: Capabilities,
  principal: Principal,
  incoming: readonly IncomingEvent[],
  rateLimitCost: number = incoming.length,
): Promise<PublishResult[]> {
  const results: (PublishResult | undefined)[] = new Array(incoming.length);
  const prepared: { index: number; item: Prepared }[] = [];
  let subscriptionList: readonly RoutableSubscription[] = [];
  if (caps.subscriptions !== null) {
    try {
      subscriptionList = await caps.subscriptions.current();
    } catch (error) {
      // Without the list no event can be routed completely: every one is refused, retryable.
      return incoming.map((event) => {
        countEvent(caps, event.attributes.type, "rejected");
        return { ok: false, error: toEdgebusError(error) };
      });
    }
  }
  incoming.forEach((event, index) => {
    try {
      prepared.push({ index, item: prepare(caps, principal, event, subscriptionList) });
    } catch (error) {
      countEvent(caps, event.attributes.type, "rejected");
      results[index] = { ok: false, error: toEdgebusError(error) };
    }
  });

  const deliver = (admission: Admission | undefined) =>
    deliverMany({
      ...(admission === undefined ? {} : { admission }),
      store: caps.dedup,
      requests: prepared.map(({ item }) => ({ key: eventKey(item.event), plan: item.plan })),
      publish: (destination, indices) =>
        destination === WEBHOOK_DESTINATION
          ? publishToSubscriptions(
              caps,
              indices.map((i) => (prepared[i] as { item: Prepared }).item),
            )
          : publishTo(
              caps,
              destination,
              indices.map((i) => (prepared[i] as { item: Prepared }).item),
            ),
      onFinishFailed: (_key, error) =>
        publishLog.log("error", "published, but the dedup record could not be completed", errorLogFields(error)),
    });
  const admission = admissionFor(principal, rateLimitCost);
  let answer: Awaited<ReturnType<typeof deliverMany>>;
  try {
    answer = await deliver(admission);
  } catch (error) {
    onRateLimiterFailure(caps, error);
    answer = await deliver(undefined);
  }
  if (!answer.admitted) throw rateLimitRefusal(admission, answer.decision);

  const tally = new OutcomeTally();
  answer.results.forEach((delivery, position) => {
    const { index, item } = prepared[position] as { index: number; item: Prepared };
    if (delivery.ok) {
      const { outcome } = delivery;
      tally.add(item.event.type, outcome.status);
      results[index] = {
        ok: true,
        receipt: toReceipt(item, outcome.status, outcome.destinations, outcome.receipts),
      };
    } else {
      tally.add(item.event.type, "rejected");
      results[index] = { ok: false, error: delivery.error };
    }
  });
  tally.write(caps);
  return results as PublishResult[];
}

/** One event; throws its `EdgebusError`. */
export async function publishEvent(
  caps: Capabilities,
  principal: Principal,
  incoming: IncomingEvent,
): Promise<Receipt> {
  const [result] = await publishEvents(caps, principal, [incoming]);
  if (result === undefined) throw new EdgebusError("internal", "no publish result");
  if (!result.ok) throw result.error;
  return result.receipt;
}
