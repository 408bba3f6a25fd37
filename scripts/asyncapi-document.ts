/**
 * AsyncAPI 3.0 description of a catalogue: one channel per Kafka topic (partition count in the
 * Kafka binding) and per Cloudflare Queue (and its dead-letter twin), one message per event
 * type with the JSON Schema of the whole CloudEvent as payload, and the operations of the
 * producer (sends) and the consumer Workers (receives).
 *
 * Which types reach which queue comes from the routing rules, applied to each type's example
 * event; a rule that matches on `data` values routes only the events it matches, so a queue's
 * message list reads "types that can arrive here".
 */

import type { Catalogue } from "#shared/catalogue/catalogue.ts";
import { eventJsonSchema, exampleEvent, schemaIdOf } from "#shared/catalogue/event-json-schema.ts";
import { deadLetterQueueOf, QUEUE_NAMES, QUEUES, type QueueName } from "#shared/names.ts";
import { routeEvent } from "#shared/routing/router.ts";
import type { RoutingRule } from "#shared/routing/routing-rule.ts";

export interface AsyncApiOptions {
  readonly title: string;
  /** Version of the document (the catalogue's release), not of AsyncAPI. */
  readonly version: string;
  readonly description?: string;
  /** Rules deciding which types each queue receives. */
  readonly routingRules: readonly RoutingRule[];
  /** Kafka bootstrap server shown in `servers` (default: the dev broker). */
  readonly kafkaHost?: string;
}

/** The Worker that consumes each queue (see each Worker's wrangler config). */
const QUEUE_CONSUMERS: Record<QueueName, string> = {
  [QUEUES.permitsCitizenSync]: "citizen-sync Worker (target permits): upserts permits.citizen_refs",
  [QUEUES.revenueCitizenSync]: "citizen-sync Worker (target revenue): upserts revenue.citizen_refs",
  [QUEUES.notifications]: "notifier Worker: renders and sends email, SMS and webhooks",
  [QUEUES.kafkaMirror]: "kafka-mirror Worker: forwards to the bridge's signed mirror ingest (on-prem Kafka)",
  [QUEUES.archive]: "archive Worker: appends to edgebus.event_archive",
};

const KAFKA_BINDING_VERSION = "0.5.0";

function ref(pointer: string): { $ref: string } {
  return { $ref: pointer };
}

/** JSON-pointer escaping of one reference token (RFC 6901). */
function token(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

export function asyncApiDocument(catalogue: Catalogue, options: AsyncApiOptions): Record<string, unknown> {
  const types = catalogue.types();
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const queueTypes = new Map<QueueName, string[]>(QUEUE_NAMES.map((q) => [q, []]));

  for (const type of types) {
    const definition = catalogue.require(type);
    const { $id: _, version: __, ...payload } = eventJsonSchema(definition, { target: "draft-7", dialect: false });
    schemas[type] = payload;
    messages[type] = {
      name: type,
      title: `${type} v${definition.version}`,
      summary: definition.description,
      contentType: "application/cloudevents+json",
      payload: ref(`#/components/schemas/${token(type)}`),
      correlationId: { description: "Correlation of related events", location: "$message.payload#/correlationid" },
      bindings: {
        kafka: {
          key: { type: "string", description: "partitionkey: the entity id, so one entity's events keep their order" },
          bindingVersion: KAFKA_BINDING_VERSION,
        },
      },
      examples: [{ name: "example", payload: exampleEvent(definition) }],
      "x-edgebus-schema-id": schemaIdOf(type, definition.version),
      "x-edgebus-schema-version": definition.version,
    };
    const event = { ...exampleEvent(definition), specversion: "1.0" as const } as Parameters<typeof routeEvent>[1];
    const topicOf = (t: string) => catalogue.topicFor(t);
    for (const queue of routeEvent(options.routingRules, event, { kafkaEnabled: true, topicOf }).queues) {
      queueTypes.get(queue)?.push(type);
    }
  }

  const channelMessages = (channelTypes: readonly string[]) =>
    Object.fromEntries(channelTypes.map((t) => [t, ref(`#/components/messages/${token(t)}`)]));

  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const operationMessages = (channel: string, channelTypes: readonly string[]) =>
    channelTypes.map((t) => ref(`#/channels/${token(channel)}/messages/${token(t)}`));

  for (const topic of catalogue.topics()) {
    const topicTypes = types.filter((t) => catalogue.topicFor(t) === topic.name);
    const keys = [...new Set(topicTypes.map((t) => catalogue.require(t).entityIdField ?? "none"))];
    const settings = [
      `${topic.partitions} partitions`,
      ...(topic.replicationFactor === undefined ? [] : [`replication ${topic.replicationFactor}`]),
      ...(topic.retentionMs === undefined ? [] : [`retention.ms ${topic.retentionMs}`]),
      ...(topic.compressionType === undefined ? [] : [`compression.type ${topic.compressionType}`]),
    ];
    channels[topic.name] = {
      address: topic.name,
      title: `Kafka topic ${topic.name}`,
      description: `Keyed by entity id (data.${keys.join(", data.")}); ${settings.join(", ")}.`,
      servers: [ref("#/servers/kafka")],
      messages: channelMessages(topicTypes),
      bindings: {
        kafka: {
          topic: topic.name,
          partitions: topic.partitions,
          ...(topic.replicationFactor === undefined ? {} : { replicas: topic.replicationFactor }),
          ...(topic.retentionMs === undefined ? {} : { topicConfiguration: { "retention.ms": topic.retentionMs } }),
          bindingVersion: KAFKA_BINDING_VERSION,
        },
      },
    };
    // The design's consumer groups / subscribers that read this topic (routes with consumerGroups).
    for (const rule of options.routingRules) {
      for (const group of rule.consumerGroups ?? []) {
        const read = topicTypes.filter((t) => {
          const event = { ...exampleEvent(catalogue.require(t)), specversion: "1.0" as const };
          return routeEvent([rule], event as Parameters<typeof routeEvent>[1], { kafkaEnabled: true }).rules.length > 0;
        });
        if (read.length === 0) continue;
        operations[`consume.${topic.name}.${group.name}`] = {
          action: "receive",
          title: `Consumer group ${group.name} reads ${topic.name}`,
          summary: `Services: ${group.services.join(", ")} (route ${rule.name}).`,
          channel: ref(`#/channels/${token(topic.name)}`),
          messages: operationMessages(topic.name, read),
        };
      }
    }
    operations[`publish.${topic.name}`] = {
      action: "send",
      title: `Publish to ${topic.name}`,
      summary: "The producer Worker publishes accepted events through the Kafka REST bridge.",
      channel: ref(`#/channels/${token(topic.name)}`),
      messages: operationMessages(topic.name, topicTypes),
    };
  }

  for (const queue of QUEUE_NAMES) {
    const queued = queueTypes.get(queue) ?? [];
    // A queue no type of this catalogue reaches is not part of its contract.
    if (queued.length === 0) continue;
    const dlq = deadLetterQueueOf(queue);
    for (const [name, description] of [
      [queue, `Cloudflare Queue ${queue}; consumed by the ${QUEUE_CONSUMERS[queue]}.`],
      [dlq, `Dead-letter queue of ${queue}: messages that exhausted their retries, moved into edgebus.dead_letters.`],
    ] as const) {
      channels[name] = {
        address: name,
        title: `Cloudflare Queue ${name}`,
        description,
        servers: [ref("#/servers/cloudflare-queues")],
        messages: channelMessages(queued),
      };
    }
    operations[`enqueue.${queue}`] = {
      action: "send",
      title: `Route to ${queue}`,
      summary: "The producer Worker routes each accepted event to the queues its rules name.",
      channel: ref(`#/channels/${token(queue)}`),
      messages: operationMessages(queue, queued),
    };
    operations[`consume.${queue}`] = {
      action: "receive",
      title: `Consume ${queue}`,
      summary: QUEUE_CONSUMERS[queue],
      channel: ref(`#/channels/${token(queue)}`),
      messages: operationMessages(queue, queued),
    };
    operations[`consume.${dlq}`] = {
      action: "receive",
      title: `Consume ${dlq}`,
      summary: "dead-letter Worker: records the message in edgebus.dead_letters for inspection and replay",
      channel: ref(`#/channels/${token(dlq)}`),
      messages: operationMessages(dlq, queued),
    };
  }

  return {
    asyncapi: "3.0.0",
    info: {
      title: options.title,
      version: options.version,
      ...(options.description === undefined ? {} : { description: options.description }),
    },
    defaultContentType: "application/cloudevents+json",
    servers: {
      kafka: {
        host: options.kafkaHost ?? "127.0.0.1:9092",
        protocol: "kafka",
        description: "Apache Kafka behind the edgebus bridge (Upstash Kafka REST protocol at /kafka)",
      },
      "cloudflare-queues": {
        host: "api.cloudflare.com",
        pathname: "/client/v4/accounts/{accountId}/queues",
        protocol: "https",
        description: "Cloudflare Queues; Workers use queue bindings, other clients the HTTP API",
        variables: { accountId: { description: "Cloudflare account id" } },
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
}
