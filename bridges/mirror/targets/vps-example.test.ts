/**
 * The VPS deployment's example files (ops/vps-rabbitmq/, docs/deployment-vps-rabbitmq.md) stay
 * true: its bridge config is valid and mirrors into RabbitMQ only, and its standalone consumer reads
 * back exactly what the RabbitMQ target writes, in both content modes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { CloudEventRecord } from "#shared/envelope/cloud-event.ts";
import { decodeDelivery } from "../../../ops/vps-rabbitmq/consumer.ts";
import { parseBridgeConfig } from "../../config.ts";
import { toAmqpMessage } from "./bindings.ts";
import { mirrorTargetsOf } from "./create-targets.ts";

const event: CloudEventRecord = {
  specversion: "1.0",
  id: "e-1",
  source: "/gov/auth",
  type: "gov.auth.citizen.updated",
  time: "2026-12-06T08:00:00Z",
  datacontenttype: "application/json",
  data: { citizenId: "c-1", phone: "+40 712" },
  partitionkey: "c-1",
  eventversion: 4,
  edgebusdirectcontact: true,
};

describe("VPS deployment with RabbitMQ only", () => {
  it("ops/vps-rabbitmq/bridge.vps.yaml is valid: no Kafka, one RabbitMQ target with its queues", () => {
    const file = parseYaml(
      readFileSync(join(import.meta.dirname, "../../../ops/vps-rabbitmq/bridge.vps.yaml"), "utf8"),
    );
    const config = parseBridgeConfig(file, {
      BRIDGE_MIRROR_SECRET: "vps-mirror-secret-0123456789",
      BRIDGE_RABBITMQ_URL: "amqp://edgebus-bridge:pw@127.0.0.1:5672/gov",
    });
    expect(config.kafkaRest.enabled).toBe(false);
    expect(mirrorTargetsOf(config.mirror)).toEqual([
      expect.objectContaining({
        kind: "rabbitmq",
        url: "amqp://edgebus-bridge:pw@127.0.0.1:5672/gov",
        queues: [
          { name: "permits.citizen-sync", type: "quorum", bindingKeys: ["gov.auth.citizen.#"] },
          { name: "revenue.payments", type: "quorum", bindingKeys: ["gov.revenue.#"] },
        ],
      }),
    ]);
  });

  it("the example consumer reads back exactly what the RabbitMQ target writes (binary and structured)", () => {
    for (const mode of ["binary", "structured"] as const) {
      const message = toAmqpMessage(event, mode);
      expect(decodeDelivery(message)).toEqual({ event });
      // rabbitmq-client hands application/json bodies over already parsed.
      if (mode === "binary") expect(decodeDelivery({ ...message, body: event.data })).toEqual({ event });
    }
    expect(decodeDelivery({ body: Buffer.from("x"), headers: {} })).toEqual({
      error: "not a CloudEvent: no specversion",
    });
  });
});
