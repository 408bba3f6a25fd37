import { describe, expect, it } from "vitest";
import type { CloudEventRecord } from "../envelope/cloud-event.ts";
import { routeEvent } from "./router.ts";
import type { RoutingRule } from "./routing-rule.ts";
import { routingRulesSchema } from "./routing-rule.ts";

function event(type: string, data: unknown = {}): CloudEventRecord {
  return { specversion: "1.0", id: "1", source: "/s", type, time: "2026-11-01T00:00:00Z", data };
}

const rules: RoutingRule[] = [
  {
    name: "big-orders",
    description: "Large orders are notified",
    pattern: { type: [{ prefix: "acme.order." }], data: { total: [{ numeric: [">=", 1000] }] } },
    queues: ["notifications"],
  },
  {
    name: "everything",
    description: "Archive and Kafka",
    pattern: {},
    queues: ["kafka-mirror", "archive"],
    kafka: true,
  },
];

describe("routeEvent", () => {
  it("unions the destinations of every matching rule, queues in the fixed queue order", () => {
    const route = routeEvent(rules, event("acme.order.created", { total: 1500 }), { kafkaEnabled: true });
    expect(route.queues).toEqual(["notifications", "kafka-mirror", "archive"]);
    expect(route.rules).toEqual(["big-orders", "everything"]);
    expect(route.kafkaTopic).toBe("acme.order");
  });

  it("uses the catalogue's type → topic map", () => {
    const route = routeEvent(rules, event("acme.order.created", { total: 5 }), {
      kafkaEnabled: true,
      topicOf: () => "order-events",
    });
    expect(route).toEqual({ queues: ["kafka-mirror", "archive"], kafkaTopic: "order-events", rules: ["everything"] });
  });

  it("leaves Kafka out when it is not configured", () => {
    expect(routeEvent(rules, event("acme.order.created"), { kafkaEnabled: false }).kafkaTopic).toBeNull();
  });

  it("refuses rules without a destination and consumer groups without Kafka", () => {
    const bad = routingRulesSchema.safeParse([
      { name: "nowhere", description: "", pattern: {} },
      {
        name: "groups",
        description: "",
        pattern: {},
        queues: ["archive"],
        consumerGroups: [{ name: "g", services: ["s"] }],
      },
    ]);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((issue) => issue.path.join("."))).toEqual(["0.queues", "1.consumerGroups"]);
  });
});
