import { z } from "zod";
import { QUEUE_NAMES, type QueueName } from "../names.ts";
import { type EventPattern, eventPatternSchema } from "./event-pattern.ts";

/**
 * A routing rule: which destinations an event matching `pattern` goes to. Rules are data so
 * they can be listed, reviewed and loaded from configuration; `routingRulesSchema` validates
 * them at the boundary.
 */
export interface RoutingRule {
  readonly name: string;
  readonly description: string;
  readonly pattern: EventPattern;
  /** Cloudflare Queues the event is sent to. */
  readonly queues?: readonly QueueName[];
  /** Publish to the event's Kafka topic (`gov.<domain>.<entity>`) when Kafka is configured. */
  readonly kafka?: boolean;
}

export const routingRuleSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string(),
  pattern: eventPatternSchema,
  queues: z.array(z.enum(QUEUE_NAMES as [QueueName, ...QueueName[]])).optional(),
  kafka: z.boolean().optional(),
});

export const routingRulesSchema = z.array(routingRuleSchema).min(1);
