/**
 * Text Postgres cannot store (U+0000, an unpaired UTF-16 surrogate) anywhere in an event — id,
 * source, any attribute, data, field names too — is refused with 422 naming where it is, in
 * every envelope mode and per item in a batch, and nothing of it is published. Consumers write
 * events into Postgres `text`/`jsonb` columns, which refuse both.
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

const key = await mintKey({ sources: ["**"], types: ["**"] });
const env = testEnv([key]);

function producer() {
  const queues = new MemoryPublisher();
  const app = createProducerApp({ capabilities: () => ({ queues, kafka: null }) });
  /** Ids of the events published to any queue. */
  const published = () =>
    queues
      .destinations()
      .flatMap((queue) => queues.messages(queue).map((m) => (JSON.parse(m.value) as { id: string }).id));
  return { app, published };
}

const NUL = "a\u0000b";
const LONE_HIGH = "a\ud800b";
const LONE_LOW = "\udfff";

/** A structured event with `change` applied to its JSON form. */
function withChange(change: (event: Record<string, unknown>) => void): Record<string, unknown> {
  const event: Record<string, unknown> = structuredEvent("gov.auth.citizen.created", { correlationid: "c-1" });
  change(event);
  return event;
}

const structuredCases: [string, () => Record<string, unknown>, string][] = [
  ["NUL in data.name", () => withChange((e) => ((e.data as Record<string, unknown>).name = NUL)), "data.name"],
  [
    "an unpaired high surrogate in data.address.city",
    () => withChange((e) => ((e.data as { address: Record<string, unknown> }).address.city = LONE_HIGH)),
    "data.address.city",
  ],
  [
    "an unpaired low surrogate in data.email",
    () => withChange((e) => ((e.data as Record<string, unknown>).email = LONE_LOW)),
    "data.email",
  ],
  ["NUL in id", () => withChange((e) => (e.id = `${crypto.randomUUID()}\u0000`)), "id"],
  ["NUL in source", () => withChange((e) => (e.source = "/services/identity\u0000x")), "source"],
  ["NUL in type", () => withChange((e) => (e.type = "gov.auth.citizen.created\u0000")), "type"],
  ["NUL in an extension", () => withChange((e) => (e.correlationid = NUL)), "correlationid"],
  ["a surrogate in an unknown extension", () => withChange((e) => (e.tenant = LONE_HIGH)), "tenant"],
  [
    "NUL in a field name inside data",
    () => withChange((e) => ((e.data as Record<string, unknown>)["na\u0000me"] = "x")),
    'data["na\\u0000me"]',
  ],
  ["a surrogate in an attribute name", () => withChange((e) => (e["x\ud800"] = "y")), '["x\\ud800"]'],
];

describe("poison text is refused with 422 naming the path", () => {
  it.each(structuredCases)("structured mode: %s", async (_, event, path) => {
    const { app, published } = producer();
    const response = await app.request(
      "/v1/events",
      { method: "POST", body: JSON.stringify(event()), headers: { ...CE_JSON, ...bearer(key) } },
      env,
    );
    const json = (await response.json()) as ResponseJson;
    expect(response.status, JSON.stringify(json)).toBe(422);
    expect(json.error.code).toBe("schema_validation_failed");
    expect(json.error.details.issues).toContainEqual(expect.objectContaining({ path }));
    expect(json.error.message).toContain(path);
    expect(published()).toEqual([]);
  });

  it.each<[string, Record<string, string>, unknown, string]>([
    ["a percent-encoded NUL in ce-id", { "ce-id": `${crypto.randomUUID()}%00` }, undefined, "ce-id"],
    ["a percent-encoded NUL in ce-source", { "ce-source": "/services/identity%00" }, undefined, "ce-source"],
    ["a percent-encoded NUL in ce-correlationid", { "ce-correlationid": "c%00" }, undefined, "ce-correlationid"],
    ["a percent-encoded NUL in an unknown ce-* header", { "ce-tenant": "t%00" }, undefined, "ce-tenant"],
    ["NUL in the data body", {}, { name: NUL }, "data.name"],
    ["a lone surrogate in data.name", {}, { name: LONE_HIGH }, "data.name"],
  ])("binary mode: %s", async (_, headers, dataChange, path) => {
    const { app, published } = producer();
    const data = {
      ...(governmentCatalogue.require("gov.auth.citizen.updated").example as object),
      ...(dataChange as object),
    };
    const response = await app.request(
      "/v1/events",
      {
        method: "POST",
        body: JSON.stringify(data),
        headers: {
          "Content-Type": "application/json",
          "ce-specversion": "1.0",
          "ce-id": crypto.randomUUID(),
          "ce-source": "/services/identity",
          "ce-type": "gov.auth.citizen.updated",
          "ce-eventversion": "3",
          ...headers,
          ...bearer(key),
        },
      },
      env,
    );
    const json = (await response.json()) as ResponseJson;
    expect(response.status, JSON.stringify(json)).toBe(422);
    expect(json.error.details.issues).toContainEqual(expect.objectContaining({ path }));
    expect(published()).toEqual([]);
  });

  function legacyEvent(): Record<string, unknown> {
    return {
      event_id: crypto.randomUUID(),
      event_type: "gov.auth.citizen.created",
      event_version: 1,
      correlation_id: "c-1",
      source: { service: "/services/identity", instance: "i-1", version: "1.0.0" },
      data: structuredClone(governmentCatalogue.require("gov.auth.citizen.created").example),
    };
  }

  it.each<[string, (legacy: Record<string, unknown>) => void, string]>([
    ["NUL in event_id", (l) => (l.event_id = `${l.event_id}\u0000`), "event_id"],
    ["NUL in correlation_id", (l) => (l.correlation_id = NUL), "correlation_id"],
    [
      "NUL in source.service",
      (l) => ((l.source as Record<string, unknown>).service = "/services/identity\u0000"),
      "source.service",
    ],
    [
      "a surrogate in source.instance",
      (l) => ((l.source as Record<string, unknown>).instance = LONE_HIGH),
      "source.instance",
    ],
    ["NUL in data.name", (l) => ((l.data as Record<string, unknown>).name = NUL), "data.name"],
  ])("legacy envelope: %s", async (_, change, path) => {
    const { app, published } = producer();
    const legacy = legacyEvent();
    change(legacy);
    const response = await app.request(
      "/v1/events",
      {
        method: "POST",
        body: JSON.stringify(legacy),
        headers: { "Content-Type": "application/json", ...bearer(key) },
      },
      env,
    );
    const json = (await response.json()) as ResponseJson;
    expect(response.status, JSON.stringify(json)).toBe(422);
    expect(json.error.details.issues).toContainEqual(expect.objectContaining({ path }));
    expect(published()).toEqual([]);
  });

  it("a batch answers 422 for the poisoned items only and publishes the rest", async () => {
    const { app, published } = producer();
    const good = structuredEvent("gov.auth.citizen.created");
    const poisoned = withChange((e) => ((e.data as Record<string, unknown>).name = NUL));
    const surrogate = withChange((e) => (e.id = `${crypto.randomUUID()}\ud800`));
    const response = await app.request(
      "/v1/events/batch",
      {
        method: "POST",
        body: JSON.stringify([poisoned, good, surrogate]),
        headers: { ...CE_BATCH, ...bearer(key) },
      },
      env,
    );
    const json = (await response.json()) as ResponseJson;
    expect(response.status).toBe(200);
    expect(json.results.map((r: { status: number }) => r.status)).toEqual([422, 202, 422]);
    expect(json.results[0].error).toMatchObject({ code: "schema_validation_failed" });
    expect(json.results[0].error.details.issues).toContainEqual(expect.objectContaining({ path: "data.name" }));
    expect(json.results[2].error.details.issues).toContainEqual(expect.objectContaining({ path: "id" }));
    expect(json).toMatchObject({ accepted: 1, rejected: 2 });
    expect(new Set(published())).toEqual(new Set([good.id]));
  });

  it("still accepts text Postgres can store: other control characters, astral characters, paired surrogates", async () => {
    const { app } = producer();
    const event = withChange((e) => ((e.data as Record<string, unknown>).name = "Am\u0001ina 😀 \u202e\ufeff"));
    const response = await app.request(
      "/v1/events",
      { method: "POST", body: JSON.stringify(event), headers: { ...CE_JSON, ...bearer(key) } },
      env,
    );
    expect(response.status, await response.clone().text()).toBe(202);
  });
});
