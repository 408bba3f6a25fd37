/**
 * The producer's core step for one parsed event: scope check, normalisation against the
 * catalogue, routing, and effectively-once delivery to every destination.
 */
import { assertMayPublish, type Principal } from "../../../shared/src/auth/authenticate.ts";
import type { PublishReceipt } from "../../../shared/src/brokers/publisher.ts";
import { deliverOnce } from "../../../shared/src/dedup/deliver-once.ts";
import { type CloudEventRecord, eventKey } from "../../../shared/src/envelope/cloud-event.ts";
import type { IncomingEvent } from "../../../shared/src/envelope/http-binding.ts";
import { toKafkaBinaryMessage } from "../../../shared/src/envelope/kafka-binding.ts";
import { normaliseEvent } from "../../../shared/src/envelope/normalise.ts";
import { toQueueMessage } from "../../../shared/src/envelope/queue-message.ts";
import { EdgebusError, isEdgebusError } from "../../../shared/src/errors.ts";
import type { QueueName } from "../../../shared/src/names.ts";
import { routeEvent } from "../../../shared/src/routing/router.ts";
import type { Receipt } from "./api-schemas.ts";
import type { Capabilities } from "./capabilities.ts";

const QUEUE_PREFIX = "queue:";
const KAFKA_PREFIX = "kafka:";

async function publishTo(caps: Capabilities, event: CloudEventRecord, destination: string): Promise<PublishReceipt> {
  const started = performance.now();
  const kind = destination.startsWith(KAFKA_PREFIX) ? "kafka" : "queue";
  try {
    let receipts: PublishReceipt[];
    if (kind === "kafka") {
      if (caps.kafka === null) {
        // The event was first routed while Kafka was configured; it must not be silently dropped.
        throw new EdgebusError("upstream_unavailable", "Kafka is not configured but this event was routed to it");
      }
      receipts = await caps.kafka.publish(destination.slice(KAFKA_PREFIX.length), [toKafkaBinaryMessage(event)]);
    } else {
      receipts = await caps.queues.publish(destination.slice(QUEUE_PREFIX.length), [toQueueMessage(event)]);
    }
    const receipt = receipts[0];
    if (receipt === undefined) throw new EdgebusError("upstream_unavailable", `${destination} returned no receipt`);
    caps.metrics.publishSeconds.observe({ destination: kind, result: "ok" }, (performance.now() - started) / 1000);
    return receipt;
  } catch (error) {
    caps.metrics.publishSeconds.observe({ destination: kind, result: "error" }, (performance.now() - started) / 1000);
    console.error(
      JSON.stringify({
        level: "error",
        msg: "publish failed",
        destination,
        event_id: event.id,
        source: event.source,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    // A destination that refuses the message for good (too large, misconfigured) is still a
    // publishing failure for the client: 503 says "the event is recorded, retry completes it".
    if (isEdgebusError(error) && error.code === "upstream_unavailable") throw error;
    throw new EdgebusError("upstream_unavailable", `${destination} did not accept the event`, { cause: error });
  }
}

function toReceipt(
  event: CloudEventRecord,
  status: Receipt["status"],
  destinations: readonly string[],
  receipts: Readonly<Record<string, PublishReceipt>>,
): Receipt {
  const kafkaDestination = destinations.find((destination) => destination.startsWith(KAFKA_PREFIX));
  const kafkaReceipt = kafkaDestination === undefined ? undefined : receipts[kafkaDestination];
  return {
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
    queues: destinations
      .filter((destination) => destination.startsWith(QUEUE_PREFIX))
      .map((destination) => destination.slice(QUEUE_PREFIX.length) as QueueName),
  };
}

/** Counts an event outcome; types outside the catalogue are one label value (bounded cardinality). */
export function countEvent(caps: Capabilities, type: unknown, outcome: "accepted" | "duplicate" | "rejected"): void {
  const known = typeof type === "string" && caps.catalogue.get(type) !== undefined;
  caps.metrics.events.inc({ type: known ? (type as string) : "unknown", outcome });
}

/** Scope → normalise → route → deliver; throws `EdgebusError` for anything the client must fix or retry. */
export async function publishEvent(
  caps: Capabilities,
  principal: Principal,
  incoming: IncomingEvent,
): Promise<Receipt> {
  const { attributes } = incoming;
  try {
    assertMayPublish(principal, { source: String(attributes.source), type: String(attributes.type) });
    const event = normaliseEvent(attributes, caps.catalogue);
    const route = routeEvent(caps.rules, event, { kafkaEnabled: caps.kafka !== null });
    const plan = [
      ...route.queues.map((queue) => `${QUEUE_PREFIX}${queue}`),
      ...(route.kafkaTopic === null ? [] : [`${KAFKA_PREFIX}${route.kafkaTopic}`]),
    ];
    const outcome = await deliverOnce({
      store: caps.dedup,
      key: eventKey(event),
      plan,
      publish: (destination) => publishTo(caps, event, destination),
    });
    countEvent(caps, event.type, outcome.status);
    return toReceipt(event, outcome.status, outcome.destinations, outcome.receipts);
  } catch (error) {
    countEvent(caps, attributes.type, "rejected");
    throw error;
  }
}
