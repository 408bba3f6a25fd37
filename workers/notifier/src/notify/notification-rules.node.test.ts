import { describe, expect, it } from "vitest";
import { exampleEvent } from "#shared/catalogue/event-json-schema.ts";
import { routeEvent } from "#shared/routing/router.ts";
import { governmentCatalogue, governmentPlugin } from "../../../../schemas/index.ts";
import { NOTIFICATION_RULES } from "./notification-rules.ts";

describe("notification rules", () => {
  it("are exactly the types the producer routes to the notifications queue", () => {
    // The router's list and the notification rules are two views of one decision: an event routed
    // here without a notification rule is wasted work, a notification rule without routing never fires.
    const routedHere = governmentCatalogue.types().filter((type) => {
      const event = { ...exampleEvent(governmentCatalogue.require(type)), specversion: "1.0" as const };
      return routeEvent(governmentPlugin.routes, event as never, { kafkaEnabled: false }).queues.includes(
        "notifications",
      );
    });
    expect(routedHere.length).toBeGreaterThan(0);
    expect(NOTIFICATION_RULES.map((notificationRule) => notificationRule.type).sort()).toEqual(routedHere.sort());
  });

  it("name event types that exist in the catalogue, once each", () => {
    const types = NOTIFICATION_RULES.map((notificationRule) => notificationRule.type);
    expect(new Set(types).size).toBe(types.length);
    for (const type of types) expect(governmentCatalogue.has(type), type).toBe(true);
  });
});
