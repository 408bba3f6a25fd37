import { describe, expect, it } from "vitest";
import { DEFAULT_ROUTING_RULES, NOTIFICATION_TYPES } from "#shared/routing/default-rules.ts";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import { SUBSCRIPTIONS } from "./subscriptions.ts";

describe("notification subscriptions", () => {
  it("are exactly the types the producer routes to the notifications queue", () => {
    // The router's list and the subscriptions are two views of one decision: an event routed
    // here without a subscription is wasted work, a subscription without routing never fires.
    expect(SUBSCRIPTIONS.map((subscription) => subscription.type).sort()).toEqual([...NOTIFICATION_TYPES].sort());
    expect(DEFAULT_ROUTING_RULES.find((rule) => rule.queues?.includes("notifications"))).toBeDefined();
  });

  it("name event types that exist in the catalogue, once each", () => {
    const types = SUBSCRIPTIONS.map((subscription) => subscription.type);
    expect(new Set(types).size).toBe(types.length);
    for (const type of types) expect(governmentCatalogue.has(type), type).toBe(true);
  });
});
