import { QUEUES } from "../names.ts";
import type { RoutingRule } from "./routing-rule.ts";

/** Types a citizen is told about (email/SMS/webhook through the notifier). */
export const NOTIFICATION_TYPES = [
  "gov.auth.citizen.created",
  "gov.permits.application.submitted",
  "gov.permits.application.approved",
  "gov.permits.application.rejected",
  "gov.permits.inspection.scheduled",
  "gov.revenue.payment.completed",
  "gov.revenue.payment.failed",
  "gov.revenue.refund.issued",
  "gov.documents.document.verified",
] as const;

/**
 * The default fan-out: citizen events feed both citizen read models, notification-worthy
 * events go to the notifier, and everything is archived, mirrored to on-prem Kafka and
 * published to its Kafka topic.
 */
export const DEFAULT_ROUTING_RULES: readonly RoutingRule[] = [
  {
    name: "citizen-read-models",
    description: "Citizen changes keep the permits and revenue citizen_refs read models in sync",
    pattern: { type: [{ prefix: "gov.auth.citizen." }] },
    queues: [QUEUES.permitsCitizenSync, QUEUES.revenueCitizenSync],
  },
  {
    name: "notifications",
    description: "Events a citizen is notified about",
    pattern: { type: [...NOTIFICATION_TYPES] },
    queues: [QUEUES.notifications],
  },
  {
    name: "archive-mirror-kafka",
    description: "Every event is archived, mirrored to on-prem Kafka and published to its Kafka topic",
    pattern: {},
    queues: [QUEUES.archive, QUEUES.kafkaMirror],
    kafka: true,
  },
];
