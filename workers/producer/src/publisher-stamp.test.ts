/**
 * The reserved `edgebus*` extension attributes: the producer stamps the publishing key's id and
 * whether it holds the `notify:direct-contact` scope into every event it publishes, and refuses
 * them from callers in every envelope mode, so no caller can forge the stamp the notifier trusts.
 */
import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../../schemas/index.ts";
import { createProducerApp } from "./app.ts";
import { MemoryPublisher } from "./brokers/memory-publisher.ts";
import {
  bearer,
  CE_BATCH,
  CE_JSON,
  mintKey,
  type ResponseJson,
  structuredEvent,
  testEnv,
} from "./producer-test-harness.ts";

const permits = await mintKey({
  id: "permits-service",
  sources: ["/services/permits*"],
  types: ["gov.permits.**"],
});
const identity = await mintKey({
  id: "identity-service",
  sources: ["/services/identity*"],
  types: ["gov.auth.**"],
  scopes: ["notify:direct-contact"],
});

function setup() {
  const queues = new MemoryPublisher();
  const app = createProducerApp({ capabilities: () => ({ queues, kafka: null }) });
  const env = testEnv([permits, identity]);
  const post = async (path: string, body: string, headers: Record<string, string>) => {
    const response = await app.request(path, { method: "POST", body, headers }, env);
    return { response, json: (await response.json()) as ResponseJson };
  };
  /** Every event the producer put on `queue`, parsed. */
  const published = (queue: string) =>
    queues.messages(queue).map((message) => JSON.parse(message.value) as Record<string, unknown>);
  return { post, published };
}

const permitEvent = (overrides: Record<string, unknown> = {}) =>
  structuredEvent("gov.permits.application.submitted", { source: "/services/permits", ...overrides });

describe("the publisher stamp (edgebuskeyid, edgebusdirectcontact)", () => {
  it("stamps the key id, and direct contact false for a key without the scope", async () => {
    const { post, published } = setup();
    const event = permitEvent();
    const { response } = await post("/v1/events", JSON.stringify(event), { ...CE_JSON, ...bearer(permits) });
    expect(response.status).toBe(202);
    const [queued] = published("notifications").filter((e) => e.id === event.id);
    expect(queued).toMatchObject({ edgebuskeyid: "permits-service", edgebusdirectcontact: false });
    // Every destination gets the same event.
    expect(published("archive").find((e) => e.id === event.id)).toMatchObject({ edgebusdirectcontact: false });
  });

  it("stamps direct contact true for a key holding notify:direct-contact", async () => {
    const { post, published } = setup();
    const event = structuredEvent("gov.auth.citizen.created");
    const { response } = await post("/v1/events", JSON.stringify(event), { ...CE_JSON, ...bearer(identity) });
    expect(response.status).toBe(202);
    const [queued] = published("notifications").filter((e) => e.id === event.id);
    expect(queued).toMatchObject({ edgebuskeyid: "identity-service", edgebusdirectcontact: true });
  });

  describe("a caller cannot send a reserved attribute, in any envelope mode", () => {
    const expectRefused = (status: number, json: ResponseJson, attribute: string) => {
      expect(status).toBe(400);
      expect(json.error.code).toBe("invalid_envelope");
      expect(JSON.stringify(json.error)).toContain(attribute);
    };

    it("structured", async () => {
      const { post, published } = setup();
      for (const forged of [{ edgebusdirectcontact: true }, { edgebuskeyid: "identity-service" }, { edgebusx: "1" }]) {
        const event = permitEvent(forged);
        const { response, json } = await post("/v1/events", JSON.stringify(event), { ...CE_JSON, ...bearer(permits) });
        expectRefused(response.status, json, Object.keys(forged)[0] as string);
      }
      expect(published("notifications")).toEqual([]);
    });

    it("binary (ce-edgebusdirectcontact header)", async () => {
      const { post, published } = setup();
      const { response, json } = await post(
        "/v1/events",
        JSON.stringify(governmentCatalogue.require("gov.permits.application.submitted").example),
        {
          "Content-Type": "application/json",
          "ce-specversion": "1.0",
          "ce-id": crypto.randomUUID(),
          "ce-source": "/services/permits",
          "ce-type": "gov.permits.application.submitted",
          "ce-edgebusdirectcontact": "true",
          ...bearer(permits),
        },
      );
      expectRefused(response.status, json, "edgebusdirectcontact");
      expect(published("notifications")).toEqual([]);
    });

    it("batch (the forged item is refused, the others go through unstamped by the caller)", async () => {
      const { post, published } = setup();
      const good = permitEvent();
      const forged = permitEvent({ edgebusdirectcontact: true });
      const { response, json } = await post("/v1/events/batch", JSON.stringify([good, forged]), {
        ...CE_BATCH,
        ...bearer(permits),
      });
      expect(response.status).toBe(200);
      const results = json.results as ResponseJson[];
      expect(results[0]).toMatchObject({ status: 202, receipt: { status: "accepted" } });
      expectRefused(results[1]?.status, results[1] as ResponseJson, "edgebusdirectcontact");
      expect(published("notifications").map((e) => [e.id, e.edgebusdirectcontact])).toEqual([[good.id, false]]);
    });

    it("legacy envelope (no place for an extension: refused as an unknown field)", async () => {
      const { post, published } = setup();
      const { response, json } = await post(
        "/v1/events",
        JSON.stringify({
          event_id: crypto.randomUUID(),
          event_type: "gov.permits.application.submitted",
          source: "/services/permits",
          data: governmentCatalogue.require("gov.permits.application.submitted").example,
          edgebusdirectcontact: true,
        }),
        { "Content-Type": "application/json", ...bearer(permits) },
      );
      expectRefused(response.status, json, "edgebusdirectcontact");
      expect(published("notifications")).toEqual([]);
    });
  });
});
