import { describe, expect, it } from "vitest";
import type { CloudEventRecord } from "../envelope/cloud-event.ts";
import { DEFAULT_ROUTING_RULES, NOTIFICATION_TYPES } from "./default-rules.ts";
import { routeEvent } from "./router.ts";
import { routingRulesSchema } from "./routing-rule.ts";

function event(type: string): CloudEventRecord {
  return { specversion: "1.0", id: "1", source: "/s", type, time: "2026-11-01T00:00:00Z", data: {} };
}

describe("default routing", () => {
  it("is valid rule data", () => {
    expect(routingRulesSchema.safeParse(DEFAULT_ROUTING_RULES).success).toBe(true);
  });

  it("sends citizen events to both read models, notifications, archive, mirror and Kafka", () => {
    const route = routeEvent(DEFAULT_ROUTING_RULES, event("gov.auth.citizen.created"), { kafkaEnabled: true });
    expect(route.queues).toEqual([
      "permits-citizen-sync",
      "revenue-citizen-sync",
      "notifications",
      "kafka-mirror",
      "archive",
    ]);
    expect(route.kafkaTopic).toBe("gov.auth.citizen");
  });

  it("does not notify on a citizen update", () => {
    const route = routeEvent(DEFAULT_ROUTING_RULES, event("gov.auth.citizen.updated"), { kafkaEnabled: false });
    expect(route.queues).toEqual(["permits-citizen-sync", "revenue-citizen-sync", "kafka-mirror", "archive"]);
    expect(route.kafkaTopic).toBeNull();
  });

  it.each(NOTIFICATION_TYPES.filter((type) => !type.startsWith("gov.auth.")))("notifies on %s", (type) => {
    expect(routeEvent(DEFAULT_ROUTING_RULES, event(type), { kafkaEnabled: true }).queues).toEqual([
      "notifications",
      "kafka-mirror",
      "archive",
    ]);
  });

  it("archives and mirrors everything else", () => {
    const route = routeEvent(DEFAULT_ROUTING_RULES, event("gov.permits.inspection.completed"), { kafkaEnabled: true });
    expect(route.queues).toEqual(["kafka-mirror", "archive"]);
    expect(route.kafkaTopic).toBe("gov.permits.inspection");
  });
});
