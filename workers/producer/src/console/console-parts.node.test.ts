/**
 * The console's pure parts: personal-data masking (every catalogue example that carries a
 * citizen's name, contact details or address comes out without them) and reading the bridge's
 * Kafka metrics into topics and consumer groups for the Overview.
 */
import { describe, expect, it } from "vitest";
import { exampleEvent } from "#shared/catalogue/event-json-schema.ts";
import { governmentCatalogue } from "../../../../schemas/index.ts";
import { parsePrometheusText, topicsFromMetrics } from "./overview.ts";
import { MASK, maskEvent, maskPersonalData } from "./personal-data.ts";

describe("personal data masking", () => {
  it("masks names, contact details and addresses at any depth, keeping ids and the envelope", () => {
    const event = exampleEvent(governmentCatalogue.require("gov.auth.citizen.created"));
    const masked = maskEvent(event) as Record<string, Record<string, unknown>>;
    expect(masked.data).toMatchObject({ name: MASK, email: MASK, phone: MASK, address: MASK });
    expect(masked.data?.id).toBe((event.data as { id: number }).id);
    expect(masked.type).toBe(event.type);
    expect(maskPersonalData({ a: [{ contact: { Email: "x@y.z", kind: "email" } }] })).toEqual({
      a: [{ contact: { Email: MASK, kind: "email" } }],
    });
  });

  it("leaves no example's email or phone readable anywhere in the catalogue", () => {
    for (const type of governmentCatalogue.types()) {
      const text = JSON.stringify(maskEvent(exampleEvent(governmentCatalogue.require(type))));
      expect(text, type).not.toMatch(/@example\.|\+3531/);
    }
  });
});

describe("bridge metrics for the Overview", () => {
  it("sums partitions per topic and per consumer group", () => {
    const text = [
      "# HELP kafka_topic_partition_current_offset x",
      'kafka_topic_partition_current_offset{topic="gov.auth.citizen",partition="0"} 10',
      'kafka_topic_partition_current_offset{topic="gov.auth.citizen",partition="1"} 5',
      'kafka_consumergroup_current_offset{consumergroup="crm",topic="gov.auth.citizen",partition="0"} 7',
      'kafka_consumergroup_current_offset{consumergroup="crm",topic="gov.auth.citizen",partition="1"} 5',
      'kafka_consumergroup_lag{consumergroup="crm",topic="gov.auth.citizen",partition="0"} 3',
      'kafka_consumergroup_lag{consumergroup="crm",topic="gov.auth.citizen",partition="1"} 0',
      'edgebus_bridge_requests_total{route="/kafka"} 4',
      "kafka_brokers 1",
    ].join("\n");
    expect(topicsFromMetrics(parsePrometheusText(text))).toEqual([
      { topic: "gov.auth.citizen", end_offset: 15, groups: [{ group: "crm", committed: 12, lag: 3 }] },
    ]);
    expect(parsePrometheusText('m{a="x\\"y"} 1')[0]?.labels).toEqual({ a: 'x"y' });
  });
});
