import { z } from "zod";
import { type EventPattern, eventPatternSchema } from "./event-pattern.ts";

/** A Kafka consumer group reading the rule's topic, and the services behind it (documentation and `routes explain`). */
export interface ConsumerGroup {
  readonly name: string;
  readonly services: readonly string[];
}

/**
 * A routing rule: which destinations an event matching `pattern` goes to. Rules are data (each
 * catalogue's route file, `schemas/route-file.ts`) so they can be listed, reviewed and explained;
 * `routingRulesSchema` validates them at the boundary, and the producer refuses to start when a
 * rule names a queue the Worker has no binding for.
 */
export interface RoutingRule {
  readonly name: string;
  readonly description: string;
  readonly pattern: EventPattern;
  /** Cloudflare Queues the event is sent to (each must be bound to the producer). */
  readonly queues?: readonly string[];
  /** Publish to the event's Kafka topic (the catalogue's type → topic map) when Kafka is configured. */
  readonly kafka?: boolean;
  /** Who reads the topic: the design's consumer groups / subscribers. Requires `kafka`. */
  readonly consumerGroups?: readonly ConsumerGroup[];
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;

export const routingRuleSchema = z
  .strictObject({
    name: z.string().regex(NAME, "lowercase letters, digits and '-'"),
    description: z.string(),
    pattern: eventPatternSchema,
    queues: z.array(z.string().regex(NAME, "a queue name: lowercase letters, digits and '-'")).optional(),
    kafka: z.boolean().optional(),
    consumerGroups: z
      .array(
        z.strictObject({
          name: z.string().regex(NAME, "lowercase letters, digits and '-'"),
          services: z.array(z.string().min(1)).min(1),
        }),
      )
      .min(1)
      .optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.consumerGroups !== undefined && rule.kafka !== true) {
      ctx.addIssue({
        code: "custom",
        path: ["consumerGroups"],
        message: "consumer groups read Kafka: set kafka: true",
      });
    }
    if ((rule.queues ?? []).length === 0 && rule.kafka !== true) {
      ctx.addIssue({ code: "custom", path: ["queues"], message: "a rule needs at least one queue or kafka: true" });
    }
  });

export const routingRulesSchema = z.array(routingRuleSchema).min(1);
