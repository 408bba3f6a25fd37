import type { CloudEventRecord } from "../envelope/cloud-event.ts";
import { QUEUE_NAMES, type QueueName, topicForType } from "../names.ts";
import { matchesPattern } from "./event-pattern.ts";
import type { RoutingRule } from "./routing-rule.ts";

/** Where one event goes. */
export interface Route {
  /** Queues in the fixed order of `QUEUE_NAMES`, each once. */
  readonly queues: readonly QueueName[];
  /** The Kafka topic, or null when no rule asks for Kafka or Kafka is not configured. */
  readonly kafkaTopic: string | null;
  /** Names of the rules that matched, for logs and debugging. */
  readonly rules: readonly string[];
}

export interface RouterOptions {
  /** False when no Kafka REST endpoint is configured: rules asking for Kafka are ignored for Kafka. */
  kafkaEnabled: boolean;
  /** The catalogue's type → topic map (default: the type minus its action). */
  topicOf?: (type: string) => string;
}

/**
 * Applies every matching rule and unions their destinations (rules never exclude each other).
 * `rules` are the event's own catalogue's (`CatalogueSet.routesFor`); a queue no binding exists
 * for was refused at start, so only bound queues come out.
 */
export function routeEvent(rules: readonly RoutingRule[], event: CloudEventRecord, options: RouterOptions): Route {
  const queues = new Set<string>();
  const matched: string[] = [];
  let kafka = false;
  for (const rule of rules) {
    if (!matchesPattern(rule.pattern, event)) continue;
    matched.push(rule.name);
    for (const queue of rule.queues ?? []) queues.add(queue);
    kafka ||= rule.kafka === true;
  }
  const topicOf = options.topicOf ?? topicForType;
  return {
    queues: QUEUE_NAMES.filter((queue) => queues.has(queue)),
    kafkaTopic: kafka && options.kafkaEnabled ? topicOf(event.type) : null,
    rules: matched,
  };
}
