/**
 * Public names of the contract (docs/architecture.md, "Public contract"): queues, Postgres schemas and
 * Kafka topic derivation. Tools and docs depend on these; change them only with the design.
 */

export const QUEUES = {
  permitsCitizenSync: "permits-citizen-sync",
  revenueCitizenSync: "revenue-citizen-sync",
  notifications: "notifications",
  kafkaMirror: "kafka-mirror",
  archive: "archive",
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export const QUEUE_NAMES: readonly QueueName[] = Object.values(QUEUES);

export function deadLetterQueueOf(queue: QueueName): `${QueueName}-dlq` {
  return `${queue}-dlq`;
}

export const PG_SCHEMAS = { permits: "permits", revenue: "revenue", edgebus: "edgebus" } as const;

/** `gov.auth.citizen.created` → `gov.auth.citizen` (type minus its action). */
export function topicForType(type: string): string {
  const parts = type.split(".");
  if (parts.length < 3) throw new Error(`event type "${type}" has no entity segment`);
  return parts.slice(0, -1).join(".");
}
