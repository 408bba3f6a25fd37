/**
 * Where an event would go and why: the producer's own steps (parse any envelope, resolve the
 * short name by the key's catalogues, upcast, validate and normalise, route by the event's own
 * catalogue's routes), then one line per route saying whether it matched and, if not, which
 * field did not. `explainEvent` returns the parts, `explainRouting` the printable lines; more
 * destinations (e.g. run-time subscriptions) add their lines after `routeLines`.
 */
import type { CatalogueSet } from "#shared/catalogue/catalogue-set.ts";
import type { TopicDefinition } from "#shared/catalogue/types.ts";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { type EventPattern, type Matcher, matchesPattern } from "#shared/routing/event-pattern.ts";
import { type Route, routeEvent } from "#shared/routing/router.ts";
import type { RoutingRule } from "#shared/routing/routing-rule.ts";
import { parseSingleEvent } from "../../workers/producer/src/envelope/http-binding.ts";
import { normaliseEvent } from "../../workers/producer/src/envelope/normalise.ts";
import { upcastEvent } from "../../workers/producer/src/envelope/upcast.ts";

export interface ExplainOptions {
  readonly catalogues: CatalogueSet;
  /** The catalogues the publishing key belongs to (short names resolve among them); default all loaded. */
  readonly namespaces?: readonly string[];
  /** Explain as if Kafka were configured (default true). */
  readonly kafkaEnabled?: boolean;
  /** `source` for an envelope without one (the producer takes the key's only source). */
  readonly missingSource?: string;
}

export interface RuleVerdict {
  readonly rule: RoutingRule;
  readonly matched: boolean;
  /** Why not, when it did not match (`type "x" is not one of …`). */
  readonly reason?: string;
}

export interface RoutingExplanation {
  readonly event: CloudEventRecord;
  /** The type as sent, when it was a short name. */
  readonly sentAs?: string;
  readonly envelope: string;
  readonly namespace: string;
  readonly route: Route;
  readonly verdicts: readonly RuleVerdict[];
  readonly topic?: TopicDefinition;
}

const ENVELOPES: Record<string, string> = {
  structured: "CloudEvent (structured)",
  binary: "CloudEvent (binary)",
  legacy: "legacy envelope",
  bus: "event bus envelope",
};

/** Throws the producer's own error (`EdgebusError`) when the event would be refused. */
export function explainEvent(input: unknown, options: ExplainOptions): RoutingExplanation {
  const { catalogues } = options;
  const incoming = parseSingleEvent(
    new Headers({ "content-type": "application/cloudevents+json" }),
    JSON.stringify(input),
    { missingSource: () => options.missingSource ?? "/routes-explain" },
  );
  const sentType = incoming.attributes.type;
  const { attributes } = upcastEvent(incoming, catalogues, {
    ...(options.namespaces === undefined ? {} : { namespaces: options.namespaces }),
  });
  const event = normaliseEvent(attributes, catalogues, { mode: incoming.mode });
  const plugin = catalogues.pluginOf(event.type);
  const rules = catalogues.routesFor(event.type);
  const route = routeEvent(rules, event, {
    kafkaEnabled: options.kafkaEnabled ?? true,
    topicOf: (type) => catalogues.topicFor(type),
  });
  const verdicts = rules.map((rule): RuleVerdict => {
    const matched = matchesPattern(rule.pattern, event);
    return matched ? { rule, matched } : { rule, matched, reason: mismatch(rule.pattern, event) };
  });
  const topic = route.kafkaTopic === null ? undefined : catalogues.topic(route.kafkaTopic);
  return {
    event,
    ...(sentType !== event.type && typeof sentType === "string" ? { sentAs: sentType } : {}),
    envelope: ENVELOPES[incoming.mode] ?? incoming.mode,
    namespace: plugin?.catalogue.namespace ?? "?",
    route,
    verdicts,
    ...(topic === undefined ? {} : { topic }),
  };
}

/** The explanation as printable lines. */
export function explainRouting(input: unknown, options: ExplainOptions): string[] {
  const explanation = explainEvent(input, options);
  return [...headerLines(explanation, options.catalogues), ...routeLines(explanation)];
}

export function headerLines(explanation: RoutingExplanation, catalogues: CatalogueSet): string[] {
  const { event, sentAs, envelope, namespace, route, topic } = explanation;
  const plugin = catalogues.pluginOf(event.type);
  const definition = catalogues.require(event.type);
  const alias = sentAs === undefined ? "" : ` (sent as "${sentAs}", a short name of catalogue ${namespace})`;
  const key = typeof event.partitionkey === "string" ? event.partitionkey : undefined;
  const keyOrigin = definition.entityIdField === undefined ? "" : ` (data.${definition.entityIdField})`;
  const lines = [
    `event      ${event.type}${alias}`,
    `           id ${event.id}, source ${event.source}, ${envelope}`,
    `catalogue  ${namespace}: ${plugin?.description ?? ""}`,
  ];
  if (route.kafkaTopic === null) lines.push("kafka      none (no matching route asks for Kafka, or Kafka is off)");
  else {
    lines.push(`kafka      topic ${route.kafkaTopic}, key ${key ?? "(none: round robin)"}${key ? keyOrigin : ""}`);
    if (topic !== undefined) lines.push(`           ${topicSettings(topic)}`);
  }
  lines.push(`queues     ${route.queues.length === 0 ? "none" : route.queues.join(", ")}`);
  return lines;
}

export function routeLines(explanation: RoutingExplanation): string[] {
  const lines = [`routes of ${explanation.namespace} (${explanation.verdicts.length}):`];
  for (const { rule, matched, reason } of explanation.verdicts) {
    lines.push(`  ${matched ? "✓" : "✗"} ${rule.name}: ${rule.description}`);
    if (!matched) {
      lines.push(`      not matched: ${reason}`);
      continue;
    }
    const destinations = [
      ...(rule.queues ?? []).map((queue) => `queue ${queue}`),
      ...(rule.kafka ? [`Kafka topic ${explanation.route.kafkaTopic ?? "(Kafka off)"}`] : []),
    ];
    lines.push(`      → ${destinations.join(", ")}`);
    for (const group of rule.consumerGroups ?? []) {
      lines.push(`      read by consumer group ${group.name}: ${group.services.join(", ")}`);
    }
  }
  return lines;
}

const DAY_MS = 86_400_000;

export function topicSettings(topic: TopicDefinition): string {
  const parts = [`${topic.partitions} partitions`];
  if (topic.replicationFactor !== undefined) parts.push(`replication ${topic.replicationFactor}`);
  if (topic.retentionMs !== undefined) {
    parts.push(
      topic.retentionMs % DAY_MS === 0
        ? `retention ${topic.retentionMs / DAY_MS} days`
        : `retention ${topic.retentionMs} ms`,
    );
  }
  if (topic.compressionType !== undefined) parts.push(`compression ${topic.compressionType}`);
  return parts.join(", ");
}

/** The first field of `pattern` that `event` fails, described. */
export function mismatch(pattern: EventPattern, event: unknown, path = ""): string {
  const fields = typeof event === "object" && event !== null ? (event as Record<string, unknown>) : {};
  for (const [field, condition] of Object.entries(pattern)) {
    if (matchesPattern({ [field]: condition }, fields)) continue;
    const where = `${path}${field}`;
    if (!Array.isArray(condition)) {
      const value = fields[field];
      return typeof value === "object" && value !== null
        ? mismatch(condition as EventPattern, value, `${where}.`)
        : `${where} is missing`;
    }
    const value = fields[field];
    const shown = value === undefined ? "is missing" : `= ${JSON.stringify(value)}`;
    return `${where} ${shown}, which matches none of ${describeMatchers(condition)}`;
  }
  return "no field fails (the pattern matched)";
}

function describeMatchers(matchers: readonly Matcher[]): string {
  const shown = matchers.slice(0, 4).map((matcher) => {
    if (matcher === null || typeof matcher !== "object") return JSON.stringify(matcher);
    const [[kind, argument]] = Object.entries(matcher) as [[string, unknown]];
    return `${kind} ${JSON.stringify(argument)}`;
  });
  const more = matchers.length > shown.length ? ` (+${matchers.length - shown.length} more)` : "";
  return `[${shown.join(", ")}]${more}`;
}
