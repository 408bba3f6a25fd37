import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { loadCatalogues } from "../../schemas/catalogues.ts";
import { commerceCatalogue } from "../../schemas/commerce/index.ts";
import { learningCatalogue } from "../../schemas/learning/index.ts";
import { explainEvent, explainRouting } from "./explain-routing.ts";

const catalogues = loadCatalogues("gov,commerce,learning");

const busEvent = (eventType: string, data: unknown) => ({
  eventId: "evt-1",
  eventType,
  timestamp: "2026-11-02T09:14:20Z",
  source: "inventory-service",
  version: "1.0",
  data,
});

describe("routes explain", () => {
  it("names the catalogue, topic with settings, key, queues, and each route's verdict with the reason", () => {
    const data = commerceCatalogue.require("commerce.inventory.reserved").example;
    const lines = explainRouting(busEvent("inventory.reserved", data), { catalogues });
    expect(lines.slice(0, 6)).toEqual([
      'event      commerce.inventory.reserved (sent as "inventory.reserved", a short name of catalogue commerce)',
      "           id evt-1, source inventory-service, event bus envelope",
      "catalogue  commerce: Commerce (generic event bus): orders, inventory, payments, customers",
      "kafka      topic inventory-events, key MUG-BLUE-350 (data.sku)",
      "           6 partitions, replication 3, retention 3 days, compression lz4",
      "queues     kafka-mirror, archive",
    ]);
    expect(lines).toContain(
      "  ✓ inventory-updates: Stock changes on inventory-events, read by catalog, search and pricing services",
    );
    expect(lines).toContain(
      "      read by consumer group inventory-updates: catalog-service, search-service, pricing-service",
    );
    expect(lines).toContain(
      '      not matched: type = "commerce.inventory.reserved", which matches none of [prefix "commerce.order.", prefix "commerce.payment."]',
    );
  });

  it("resolves a shared short name by the key's catalogue, and refuses it for a key of both", () => {
    const data = learningCatalogue.require("learning.payment.failed").example;
    const explained = explainEvent(busEvent("payment.failed", data), { catalogues, namespaces: ["learning"] });
    expect(explained.event.type).toBe("learning.payment.failed");
    expect(explained.route.kafkaTopic).toBe("payment.failed");
    expect(explained.verdicts.filter((v) => v.matched).map((v) => v.rule.name)).toEqual([
      "notification-service",
      "archive-mirror-kafka",
    ]);
    expect(() => explainEvent(busEvent("payment.failed", data), { catalogues })).toThrow(EdgebusError);
  });

  it("says where a government CloudEvent goes without Kafka, and refuses invalid data like the producer", () => {
    const event = {
      specversion: "1.0",
      id: "e-1",
      source: "/services/identity",
      type: "gov.auth.citizen.updated",
      eventversion: 2,
      data: catalogues.require("gov.auth.citizen.updated").example,
    };
    const explained = explainEvent(event, { catalogues, kafkaEnabled: false });
    expect(explained.route).toMatchObject({
      kafkaTopic: null,
      queues: ["permits-citizen-sync", "revenue-citizen-sync", "kafka-mirror", "archive"],
    });
    const wrong = { ...event, data: { ...(event.data as object), email: "not-an-email" } };
    expect(() => explainEvent(wrong, { catalogues })).toThrow(/does not match the schema/);
  });
});
