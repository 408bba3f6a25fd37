/**
 * The government design's own events (test/fixtures/seed-events/, exactly as the design shows
 * them) through the producer API: accepted in every envelope path they can take, upcast to the
 * catalogue's current shape before anything is published, the receipt saying `received_as`, the
 * mapping's refusals as 422s naming the sender's field.
 */
import { describe, expect, it } from "vitest";
import created from "../../../../test/fixtures/seed-events/citizen.created.json" with { type: "json" };
import updated from "../../../../test/fixtures/seed-events/citizen.updated.json" with { type: "json" };
import verified from "../../../../test/fixtures/seed-events/citizen.verified.json" with { type: "json" };
import { createProducerApp } from "../app.ts";
import { MemoryPublisher } from "../brokers/memory-publisher.ts";
import { bearer, CE_BATCH, CE_JSON, mintKey, type ResponseJson, testEnv } from "../producer-test-harness.ts";

/** The auth service's key: one literal source, the citizen types. */
const authService = await mintKey({ id: "auth-service", sources: ["/auth-service"], types: ["gov.auth.citizen.*"] });
/** A key allowed several sources: it cannot stand in for a missing one. */
const wide = await mintKey({ sources: ["/auth-service", "/services/identity/**"], types: ["gov.auth.**"] });
const globbed = await mintKey({ sources: ["/auth-*"], types: ["gov.auth.**"] });
const permitsOnly = await mintKey({ sources: ["/auth-service"], types: ["gov.permits.**"] });

const APPLICATION_JSON = { "Content-Type": "application/json" };
const CITIZEN_QUEUES = ["permits-citizen-sync", "revenue-citizen-sync"];

type Json = Record<string, unknown>;

/** A fixture with a fresh event_id (each test publishes its own), otherwise exactly as the design shows it. */
function fresh<T extends { event_id: string }>(fixture: T): T {
  return { ...structuredClone(fixture), event_id: `${fixture.event_id}-${crypto.randomUUID().slice(0, 8)}` };
}

function setup() {
  const queues = new MemoryPublisher();
  const app = createProducerApp({ capabilities: () => ({ queues, kafka: null }) });
  const env = testEnv([authService, wide, globbed, permitsOnly]);
  const post = async (path: string, body: unknown, headers: Record<string, string>, key = authService) => {
    const response = await app.request(
      path,
      { method: "POST", body: JSON.stringify(body), headers: { ...headers, ...bearer(key) } },
      env,
    );
    return { status: response.status, json: (await response.json()) as ResponseJson };
  };
  /** The event as the citizen-sync queue received it. */
  const queued = (id: string): Json => {
    const message = queues.messages("permits-citizen-sync").find((m) => m.id.endsWith(id));
    if (message === undefined) throw new Error(`${id} was not published`);
    return JSON.parse(message.value) as Json;
  };
  return { queues, post, queued };
}

describe("the design's events, as its services send them", () => {
  it.each([
    ["application/json (the legacy envelope)", APPLICATION_JSON],
    ["application/cloudevents+json", CE_JSON],
  ])("each is accepted as %s and upcast before it is published", async (_, headers) => {
    const { post, queued } = setup();
    const events = [fresh(created), fresh(updated), fresh(verified)];
    const types = ["gov.auth.citizen.created", "gov.auth.citizen.updated", "gov.auth.citizen.verified"];
    for (const [index, event] of events.entries()) {
      const { status, json } = await post("/v1/events", event, headers);
      expect(status, JSON.stringify(json)).toBe(202);
      expect(json).toEqual({
        id: event.event_id,
        type: types[index],
        status: "accepted",
        kafka: null,
        queues: [...CITIZEN_QUEUES, ...(index === 0 ? ["notifications"] : []), "kafka-mirror", "archive"],
        received_as: "seed-v1",
      });
    }
    const [c, u, v] = events.map((event) => queued(event.event_id));
    expect(c).toMatchObject({
      specversion: "1.0",
      type: "gov.auth.citizen.created",
      source: "/auth-service",
      sourceinstance: "auth-1",
      sourceversion: "1.2.0",
      eventversion: 1,
      correlationid: "req_abc123",
      subject: "123",
      partitionkey: "123",
      edgebuskeyid: "auth-service",
      data: {
        id: 123,
        phone: "+15550123",
        address: { text: "456 Main St, Springfield" },
        created_at: "2024-01-15T10:30:00Z",
      },
    });
    expect(c?.data).not.toHaveProperty("citizen_id");
    expect(u).toMatchObject({
      eventversion: 5,
      data: {
        phone: "+15550199",
        address: { text: "789 Oak Ave, Springfield" },
        changes: { phone: { old: "+15550123", new: "+15550199" } },
      },
    });
    expect(v).toMatchObject({
      type: "gov.auth.citizen.verified",
      source: "/auth-service",
      eventversion: 6,
      data: { id: 123, verified_by: "EMP-000456", verified_at: v?.time },
    });
  });

  it("all three in one batch; sent again, all three are duplicates", async () => {
    const { post, queues } = setup();
    const batch = [fresh(created), fresh(updated), fresh(verified)];
    const first = await post("/v1/events/batch", batch, CE_BATCH);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ accepted: 3, duplicate: 0, rejected: 0 });
    for (const result of first.json.results) expect(result.receipt.received_as).toBe("seed-v1");

    const again = await post("/v1/events/batch", batch, CE_BATCH);
    expect(again.json).toMatchObject({ accepted: 0, duplicate: 3, rejected: 0 });
    // One at a time, too: the same source + id (the key's source for the verification).
    for (const event of batch) {
      const single = await post("/v1/events", event, APPLICATION_JSON);
      expect(single.json).toMatchObject({ status: "duplicate", received_as: "seed-v1" });
    }
    expect(queues.messages("archive")).toHaveLength(3);
  });

  it("a batch mixing the design's events with current CloudEvents", async () => {
    const { post } = setup();
    const current = {
      specversion: "1.0",
      id: crypto.randomUUID(),
      source: "/auth-service",
      type: "citizen.verified",
      eventversion: 7,
      data: {
        id: 123,
        verification_type: "email",
        verified_by: "system",
        verification_method: "email_link",
        document_reference: null,
        verified_at: "2024-01-18T10:30:00Z",
      },
    };
    const { json } = await post("/v1/events/batch", [fresh(created), current], CE_BATCH);
    expect(json.results.map((r: ResponseJson) => [r.status, r.receipt.type, r.receipt.received_as])).toEqual([
      [202, "gov.auth.citizen.created", "seed-v1"],
      [202, "gov.auth.citizen.verified", undefined],
    ]);
  });
});

describe("refusals", () => {
  it("no source, and a key with several sources or a glob: 422 naming source", async () => {
    const { post } = setup();
    for (const key of [wide, globbed]) {
      const { status, json } = await post("/v1/events", fresh(verified), APPLICATION_JSON, key);
      expect(status).toBe(422);
      expect(json.error).toMatchObject({
        code: "schema_validation_failed",
        details: { issues: [{ path: "source" }], allowed_sources: key.entry.sources },
      });
    }
    const batch = await post("/v1/events/batch", [fresh(created), fresh(verified)], CE_BATCH, wide);
    expect(batch.json.results.map((r: ResponseJson) => r.status)).toEqual([202, 422]);
  });

  it("the scope is checked on the full type and the mapped source", async () => {
    const { post } = setup();
    const { status, json } = await post("/v1/events", fresh(created), APPLICATION_JSON, permitsOnly);
    expect(status).toBe(403);
    expect(json.error.message).toContain('"gov.auth.citizen.created"');
    const other = { ...fresh(created), source: { service: "billing-service" } };
    const denied = await post("/v1/events", other, APPLICATION_JSON);
    expect(denied.status).toBe(403);
    expect(denied.json.error.details).toMatchObject({ source: "/billing-service" });
  });

  it.each([
    ["citizen_id is not snapshot.id", (e: Json) => ((e.data as Json).citizen_id = 124), "data.citizen_id"],
    [
      "a phone without a country code",
      (e: Json) => (((e.data as Json).snapshot as Json).phone = "555-0123"),
      "data.snapshot.phone",
    ],
    ["an empty address", (e: Json) => (((e.data as Json).snapshot as Json).address = ""), "data.snapshot.address"],
    ["a bad email", (e: Json) => (((e.data as Json).snapshot as Json).email = "maria"), "data.snapshot.email"],
  ])("%s: 422 at %s", async (_, corrupt, path) => {
    const { post, queues } = setup();
    const event = fresh(created) as unknown as Json;
    corrupt(event);
    const { status, json } = await post("/v1/events", event, APPLICATION_JSON);
    expect(status).toBe(422);
    expect(json.error).toMatchObject({
      code: "schema_validation_failed",
      details: { type: "gov.auth.citizen.created", received_as: "seed-v1", issues: [{ path }] },
    });
    expect(queues.messages("archive")).toHaveLength(0);
  });

  it("a seed event without event_version: 422 at event_version", async () => {
    const { post } = setup();
    const { event_version: _, ...event } = fresh(updated);
    const { status, json } = await post("/v1/events", event, APPLICATION_JSON);
    expect(status).toBe(422);
    expect(json.error.details.issues).toEqual([expect.objectContaining({ path: "event_version" })]);
  });
});
