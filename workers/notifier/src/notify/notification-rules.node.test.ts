import { describe, expect, it } from "vitest";
import { DEFAULT_ROUTING_RULES, NOTIFICATION_TYPES } from "#shared/routing/default-rules.ts";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import { NOTIFICATION_RULES } from "./notification-rules.ts";

describe("notification rules", () => {
  it("are exactly the types the producer routes to the notifications queue", () => {
    // The router's list and the notification rules are two views of one decision: an event routed
    // here without a notification rule is wasted work, a notification rule without routing never fires.
    expect(NOTIFICATION_RULES.map((notificationRule) => notificationRule.type).sort()).toEqual(
      [...NOTIFICATION_TYPES].sort(),
    );
    expect(DEFAULT_ROUTING_RULES.find((rule) => rule.queues?.includes("notifications"))).toBeDefined();
  });

  it("name event types that exist in the catalogue, once each", () => {
    const types = NOTIFICATION_RULES.map((notificationRule) => notificationRule.type);
    expect(new Set(types).size).toBe(types.length);
    for (const type of types) expect(governmentCatalogue.has(type), type).toBe(true);
  });
});
