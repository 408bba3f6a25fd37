import { describe, expect, it } from "vitest";
import { exampleEvent } from "#shared/catalogue/event-json-schema.ts";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { routeEvent } from "#shared/routing/router.ts";
import { governmentCatalogue, governmentPlugin } from "../index.ts";

function event(type: string): CloudEventRecord {
  return { ...exampleEvent(governmentCatalogue.require(type)), specversion: "1.0" } as CloudEventRecord;
}

const route = (type: string, kafkaEnabled = true) =>
  routeEvent(governmentPlugin.routes, event(type), {
    kafkaEnabled,
    topicOf: (t) => governmentCatalogue.topicFor(t),
  });

describe("government routes (schemas/gov/routes.json)", () => {
  it("send citizen events to both read models, notifications, archive, mirror and Kafka", () => {
    const created = route("gov.auth.citizen.created");
    expect(created.queues).toEqual([
      "permits-citizen-sync",
      "revenue-citizen-sync",
      "notifications",
      "kafka-mirror",
      "archive",
    ]);
    expect(created.kafkaTopic).toBe("gov.auth.citizen");
  });

  it("do not notify on a citizen update, and leave Kafka out when it is off", () => {
    const updated = route("gov.auth.citizen.updated", false);
    expect(updated.queues).toEqual(["permits-citizen-sync", "revenue-citizen-sync", "kafka-mirror", "archive"]);
    expect(updated.kafkaTopic).toBeNull();
  });

  it.each(["gov.permits.application.submitted", "gov.revenue.payment.failed", "gov.documents.document.verified"])(
    "notify on %s",
    (type) => {
      expect(route(type).queues).toEqual(["notifications", "kafka-mirror", "archive"]);
    },
  );

  it("archive, mirror and publish everything, each type to its catalogue topic", () => {
    for (const type of governmentCatalogue.types()) {
      const result = route(type);
      expect(result.queues, type).toContain("archive");
      expect(result.queues, type).toContain("kafka-mirror");
      expect(result.kafkaTopic, type).toBe(governmentCatalogue.topicFor(type));
    }
  });
});
