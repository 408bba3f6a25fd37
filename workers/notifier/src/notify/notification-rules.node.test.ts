import { describe, expect, it } from "vitest";
import { exampleEvent } from "#shared/catalogue/event-json-schema.ts";
import { routeEvent } from "#shared/routing/router.ts";
import { governmentCatalogue, governmentPlugin } from "../../../../schemas/index.ts";
import { NOTIFICATION_RULES } from "./notification-rules.ts";
import { QUEUED_TYPES } from "./queued-notification.ts";

describe("notification rules", () => {
  it("with the queued notification types, are exactly the types the producer routes to the notifications queue", () => {
    // The router's list and the notifier's types are two views of one decision: an event routed
    // here the notifier does not handle is wasted work, a type it handles without routing never fires.
    const routedHere = governmentCatalogue.types().filter((type) => {
      const event = { ...exampleEvent(governmentCatalogue.require(type)), specversion: "1.0" as const };
      return routeEvent(governmentPlugin.routes, event as never, { kafkaEnabled: false }).queues.includes(
        "notifications",
      );
    });
    expect(routedHere.length).toBeGreaterThan(0);
    const handled = [
      ...NOTIFICATION_RULES.map((notificationRule) => notificationRule.type),
      ...Object.keys(QUEUED_TYPES),
    ];
    expect(handled.sort()).toEqual(routedHere.sort());
  });

  it("name event types that exist in the catalogue, once each", () => {
    const types = NOTIFICATION_RULES.map((notificationRule) => notificationRule.type);
    expect(new Set(types).size).toBe(types.length);
    for (const type of types) expect(governmentCatalogue.has(type), type).toBe(true);
  });
});
