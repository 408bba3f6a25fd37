/**
 * The producer's OpenAPI document, derived from the route declarations (`createRoute` in
 * `workers/producer/src/routes/`):
 * - equal to the hand-written document it replaced (`fixtures/openapi.v1.json`, the committed
 *   `schemas/generated/openapi.json` of before) once `$ref`s are resolved, but for the intended
 *   differences listed below, each with its reason;
 * - the methods the app answers per path (405 with `Allow` for others) are the ones that document had;
 * - checked by a stock JSON Schema 2020-12 validator (ajv), as a client generator would read it:
 *   every component compiles, the documented request schemas accept what the producer accepts
 *   (catalogue examples in structured mode, the legacy envelope, batches) and reject what it
 *   rejects, and the documented response schemas accept the shapes the handlers are typed with.
 */
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "#shared/errors.ts";
import { governmentCatalogue } from "../schemas/index.ts";
import { PRODUCER_ROUTES, renderOpenApi } from "../workers/producer/src/producer-routes.ts";
import { routeMethods } from "../workers/producer/src/route-definition.ts";
import handWritten from "./fixtures/openapi.v1.json" with { type: "json" };

// biome-ignore lint/suspicious/noExplicitAny: the document is walked by path; ajv checks the shapes
type Json = Record<string, any>;
const document = renderOpenApi(governmentCatalogue) as Json;

function validatorFor(schema: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // Resolve `#/components/schemas/*` against the document itself.
  ajv.addSchema({ $id: "openapi", components: document.components }, "openapi");
  const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
  return ajv.compile(rewritten);
}

const publishBody = document.paths["/v1/events"].post.requestBody.content;
const structured = validatorFor(publishBody["application/cloudevents+json"].schema);
const json = validatorFor(publishBody["application/json"].schema);
const batch = validatorFor(
  document.paths["/v1/events/batch"].post.requestBody.content["application/cloudevents-batch+json"].schema,
);
const receipt = validatorFor({ $ref: "#/components/schemas/Receipt" });
const errorBody = validatorFor({ $ref: "#/components/schemas/Error" });
const batchResponse = validatorFor({ $ref: "#/components/schemas/BatchResponse" });

function event(type: string, overrides: Json = {}): Json {
  const definition = governmentCatalogue.require(type);
  return {
    specversion: "1.0",
    id: "e-1",
    source: "/services/test",
    type,
    ...(definition.requiresEventVersion ? { eventversion: 1 } : {}),
    data: definition.example,
    ...overrides,
  };
}

/** `document` with every `#/components/schemas/*` reference replaced by what it points to. */
function dereferenced(document: Json): Json {
  const walk = (node: unknown, trail: readonly string[]): unknown => {
    if (Array.isArray(node)) return node.map((item) => walk(item, trail));
    if (typeof node !== "object" || node === null) return node;
    const { $ref, ...rest } = node as Json;
    const siblings = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, walk(value, trail)]));
    if ($ref === undefined) return siblings;
    const name = String($ref).replace(/^#\/components\/schemas\//, "");
    const target = document.components.schemas[name];
    if (target === undefined || trail.includes(name)) throw new Error(`unresolvable or cyclic $ref ${$ref}`);
    return { ...(walk(target, [...trail, name]) as Json), ...siblings };
  };
  return walk(document, []) as Json;
}

/** The same value with every object's keys sorted. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Json)[key])]),
  );
}

const at = (root: Json, path: readonly (string | number)[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Json | undefined)?.[key], root);

interface IntendedDifference {
  /** Where, in both documents after dereferencing. */
  path: (string | number)[];
  /** The hand-written document's value there (`undefined`: absent). */
  before: unknown;
  /** The derived document's value there (`undefined`: absent). */
  after: unknown;
  reason: string;
}

/**
 * Components changed since the fixture, each with its reason. They are applied to the fixture
 * before it is dereferenced, so every place that refers to a component sees the change once.
 */
const COMPONENT_CHANGES: IntendedDifference[] = [
  {
    path: ["Receipt", "properties", "received_as"],
    before: undefined,
    after: at(document, ["components", "schemas", "Receipt", "properties", "received_as"]),
    reason: "the receipt says which form an upcast event came in (seed-v1: the government design's own events)",
  },
  {
    path: ["LegacyEnvelope", "required"],
    before: ["event_id", "event_type", "source", "data"],
    after: ["event_id", "event_type", "data"],
    reason: "a legacy envelope without source takes the publishing key's only allowed source",
  },
  ...[
    ["Error", "properties", "error", "properties", "code", "enum"],
    ["BatchItemResult", "anyOf", 1, "properties", "error", "properties", "code", "enum"],
  ].map(
    (path): IntendedDifference => ({
      path,
      before: at(handWritten, ["components", "schemas", ...path]),
      after: Object.keys(ERROR_CODES),
      reason:
        "new 503 codes: dedup_not_shared and kafka_misconfigured (a deployment that must not publish), redis_unavailable and kafka_unavailable (GET /readyz)",
    }),
  ),
  {
    path: ["Ready"],
    before: undefined,
    after: at(document, ["components", "schemas", "Ready"]),
    reason: "the answer of GET /readyz (new route)",
  },
  ...(
    [
      ["Subscription", "a webhook subscription as the /v1/subscriptions routes answer it (new routes)"],
      ["SubscriptionWithSecret", "a subscription with its signing secret, answered once at create and rotation"],
      ["SubscriptionPage", "GET /v1/subscriptions (new route)"],
      ["DeliveryPage", "GET /v1/subscriptions/{id}/deliveries (new route)"],
    ] as const
  ).map(([name, reason]) => ({
    path: [name],
    before: undefined,
    after: at(document, ["components", "schemas", name]),
    reason,
  })),
  // Catalogue evolutions, judged by the catalogue's own compatibility check (schemas/index.test.ts).
  ...(
    [
      ["gov.auth.citizen.created", 2, 3, "v3: a free-text address ({text}); its alias and seed-v1 form"],
      ["gov.auth.citizen.updated", 1, 2, "v2: a free-text address, created_at optional; its alias and seed-v1 form"],
      ["gov.auth.citizen.verified", 1, 1, "its alias and seed-v1 form"],
      ["gov.auth.citizen.deleted", 1, 1, "its alias"],
    ] as const
  ).map(([type, was, is, reason]) => {
    const after = at(document, ["components", "schemas", `data.${type}`]) as Json;
    return {
      path: [`data.${type}`],
      before: { ...(at(handWritten, ["components", "schemas", `data.${type}`]) as Json), "x-edgebus-version": was },
      after: { ...after, "x-edgebus-version": is },
      reason,
    };
  }),
];

/** Routes added since the fixture, with their reason; their methods (default GET) are checked against the app below. */
const NEW_PATHS: readonly (readonly [path: string, reason: string, methods?: readonly string[]])[] = [
  ["/readyz", "readiness: Redis and the Kafka REST endpoint answer a probe, 503 naming the one that does not"],
  ["/v1/metrics/consumers", "Prometheus text of the consumer, queue and dead-letter metrics, for a metrics-scope key"],
  ["/v1/subscriptions", "webhook subscriptions: create and list", ["POST", "GET", "HEAD"]],
  ["/v1/subscriptions/{id}", "one webhook subscription: read, change, delete", ["GET", "HEAD", "PATCH", "DELETE"]],
  ["/v1/subscriptions/{id}/pause", "hold a subscription's deliveries", ["POST"]],
  ["/v1/subscriptions/{id}/resume", "deliver a paused subscription's backlog", ["POST"]],
  ["/v1/subscriptions/{id}/rotate-secret", "a new signing secret, the old one valid for a window", ["POST"]],
  ["/v1/subscriptions/{id}/test", "a signed example event to the subscription's target", ["POST"]],
  ["/v1/subscriptions/{id}/deliveries", "a subscription's delivery history with attempts"],
  ["/v1/subscriptions/{id}/deliveries/redrive", "deliver failed deliveries again", ["POST"]],
  [
    "/v1/citizens/{id}/push-subscriptions",
    "a citizen's Web Push subscriptions, registered and removed by the citizen app's service",
    ["POST", "DELETE"],
  ],
];

function withComponentChanges(fixture: Json): Json {
  const patched = structuredClone(fixture);
  for (const { path, after } of COMPONENT_CHANGES) {
    const parent = at(patched.components.schemas, path.slice(0, -1)) as Json;
    parent[path[path.length - 1] as string | number] = structuredClone(after);
  }
  return patched;
}

describe("the derived OpenAPI document against the hand-written one it replaced", () => {
  it.each(COMPONENT_CHANGES.map((change) => [change.path.join(" › "), change] as const))(
    "changed component %s",
    (_, { path, before: was, after: is }) => {
      expect(was).not.toEqual(is);
      expect(at(handWritten.components.schemas as Json, path)).toStrictEqual(was);
      expect(at(document.components.schemas, path)).toStrictEqual(is);
    },
  );

  const before = sortedKeys(dereferenced(withComponentChanges(handWritten))) as Json;
  const derived = sortedKeys(dereferenced(JSON.parse(JSON.stringify(document)))) as Json;

  const publish = ["paths", "/v1/events", "post", "requestBody", "content", "application/cloudevents+json"];
  const batchItems = ["paths", "/v1/events/batch", "post", "requestBody", "content"];
  const example = at(before, [...publish, "example"]);
  const adminScope = (path: string, method: string): IntendedDifference => ({
    path: ["paths", path, method, "security"],
    before: [{ bearerAuth: [] }],
    after: [{ bearerAuth: ["admin"] }],
    reason: "the declaration states the scope it needs, and the key check is derived from it",
  });
  const deadLetterId = (path: string, method: string): IntendedDifference => ({
    path: ["paths", path, method, "parameters", 0, "schema"],
    before: { type: "integer", minimum: 1 },
    after: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    reason: "z.int() bounds the id to safe integers, as deadLetterId() does (404 above)",
  });

  /** The one error shape, as the dereferenced document writes it in every error response. */
  const errorContent = { "application/json": { schema: at(before, ["components", "schemas", "Error"]) } };
  const codesOf = (status: number) =>
    Object.entries(ERROR_CODES)
      .filter(([, s]) => s === status)
      .map(([code]) => `\`${code}\``)
      .join(", ");
  const listed503 = (path: string, method: string): IntendedDifference => ({
    path: ["paths", path, method, "responses", "503", "description"],
    before: "Error (`upstream_unavailable`)",
    after: `Error (${codesOf(503)})`,
    reason: "a response's description lists every code of its status, and 503 has new ones (see Error above)",
  });
  const bodyLimit413 = (path: string, method: string): IntendedDifference => ({
    path: ["paths", path, method, "responses", "413"],
    before: undefined,
    after: { description: "Error (`payload_too_large`)", content: errorContent },
    reason: "admin request bodies are read within 16,384 bytes: 413 beyond",
  });

  const INTENDED: IntendedDifference[] = [
    {
      path: ["components", "schemas", "CatalogueEvent"],
      before: undefined,
      after: { ...(at(before, [...publish, "schema"]) as Json), examples: [example] },
      reason: "static declarations name the catalogue's events; the document fills this component per catalogue",
    },
    {
      path: ["components", "schemas", "EventType"],
      before: undefined,
      after: at(before, ["paths", "/v1/schemas/{type}", "get", "parameters", 0, "schema"]),
      reason: "same for the catalogue's types (the path parameter of GET /v1/schemas/{type})",
    },
    {
      path: [...publish, "example"],
      before: example,
      after: undefined,
      reason: "the example depends on the catalogue, so it moved into CatalogueEvent (next two lines)",
    },
    {
      path: [...publish, "schema", "examples"],
      before: undefined,
      after: [example],
      reason: "CatalogueEvent's example, where the publish body refers to it",
    },
    {
      path: [...batchItems, "application/cloudevents-batch+json", "schema", "items", "examples"],
      before: undefined,
      after: [example],
      reason: "CatalogueEvent's example, where the batch items refer to it",
    },
    {
      path: ["paths", "/v1/events", "post", "description"],
      before: at(handWritten, ["paths", "/v1/events", "post", "description"]),
      after: at(document, ["paths", "/v1/events", "post", "description"]),
      reason: "says that a legacy envelope may omit source, and that aliases and the design's own events are upcast",
    },
    adminScope("/v1/dead-letters", "get"),
    adminScope("/v1/dead-letters/replay", "post"),
    adminScope("/v1/dead-letters/{id}", "get"),
    adminScope("/v1/dead-letters/{id}", "delete"),
    adminScope("/v1/dead-letters/{id}/replay", "post"),
    adminScope("/v1/replay", "post"),
    adminScope("/v1/replay/{id}", "get"),
    adminScope("/v1/replay/{id}", "delete"),
    deadLetterId("/v1/dead-letters/{id}", "get"),
    deadLetterId("/v1/dead-letters/{id}", "delete"),
    deadLetterId("/v1/dead-letters/{id}/replay", "post"),
    ...(
      [
        ["/v1/events", "post"],
        ["/v1/dead-letters", "get"],
        ["/v1/dead-letters/replay", "post"],
        ["/v1/dead-letters/{id}", "get"],
        ["/v1/dead-letters/{id}", "delete"],
        ["/v1/dead-letters/{id}/replay", "post"],
        ["/v1/replay", "post"],
        ["/v1/replay/{id}", "get"],
        ["/v1/replay/{id}", "delete"],
      ] as const
    ).map(([path, method]) => listed503(path, method)),
    bodyLimit413("/v1/dead-letters/replay", "post"),
    bodyLimit413("/v1/dead-letters/{id}", "delete"),
    bodyLimit413("/v1/replay", "post"),
    ...(["/v1/events/batch", "/healthz"] as const).map(
      (path): IntendedDifference => ({
        path: ["paths", path, path === "/healthz" ? "get" : "post", "responses", "503"],
        before: undefined,
        after: { description: `Error (${codesOf(503)})`, content: errorContent },
        reason: "outside development a deployment that must not publish answers 503 with the problem's code",
      }),
    ),
    {
      path: ["paths", "/healthz", "get", "description"],
      before: undefined,
      after: at(document, ["paths", "/healthz", "get", "description"]),
      reason: "says when /healthz answers 503 and who sees the settings at fault",
    },
    ...NEW_PATHS.map(
      ([path, reason]): IntendedDifference => ({
        path: ["paths", path],
        before: undefined,
        after: at(derived, ["paths", path]),
        reason: `new route: ${reason}`,
      }),
    ),
  ];

  it.each(INTENDED.map((difference) => [difference.path.join(" › "), difference] as const))(
    "intended difference at %s",
    (_, { path, before: was, after: is }) => {
      expect(was).not.toEqual(is);
      expect(at(before, path)).toStrictEqual(sortedKeys(was));
      expect(at(derived, path)).toStrictEqual(sortedKeys(is));
    },
  );

  it("is otherwise equal, key for key", () => {
    const expected = structuredClone(before);
    for (const { path, after: is } of INTENDED) {
      const parent = at(expected, path.slice(0, -1)) as Json;
      const key = path[path.length - 1] as string | number;
      if (is === undefined) delete parent[key];
      else parent[key] = sortedKeys(is);
    }
    expect(derived).toStrictEqual(expected);
  });

  it("the app answers the methods the hand-written document listed, path for path (405 with Allow otherwise)", () => {
    const expected = Object.fromEntries(
      Object.entries(handWritten.paths as Json).map(([path, operations]) => [
        path.replace(/\{(\w+)\}/g, ":$1"),
        Object.keys(operations).flatMap((method) => (method === "get" ? ["GET", "HEAD"] : [method.toUpperCase()])),
      ]),
    );
    const methods = routeMethods(PRODUCER_ROUTES);
    const added = new Set(NEW_PATHS.map(([path]) => path.replace(/\{(\w+)\}/g, ":$1")));
    for (const [path, , declared] of NEW_PATHS) {
      const routing = path.replace(/\{(\w+)\}/g, ":$1");
      expect(methods[routing], path).toEqual(declared ? [...declared] : ["GET", "HEAD"]);
    }
    const kept = Object.fromEntries(Object.entries(methods).filter(([path]) => !added.has(path)));
    expect(kept).toStrictEqual(expected);
    // The order of the paths decides which 405 answers where a static path overlaps a parameterised one.
    expect(Object.keys(kept)).toEqual(Object.keys(expected));
  });
});

describe("producer OpenAPI document under a JSON Schema 2020-12 validator", () => {
  it("documents a valid structured event of every catalogue type", () => {
    for (const type of governmentCatalogue.types()) {
      expect(structured(event(type)), `${type}: ${JSON.stringify(structured.errors)}`).toBe(true);
    }
    expect(structured(document.components.schemas.CatalogueEvent.examples[0])).toBe(true);
  });

  it("rejects what the producer rejects", () => {
    expect(structured(event("gov.auth.citizen.created", { specversion: "0.3" }))).toBe(false);
    expect(structured(event("gov.auth.citizen.created", { eventversion: 0 }))).toBe(false);
    expect(structured(event("gov.auth.citizen.created", { eventversion: undefined }))).toBe(false);
    expect(structured(event("gov.auth.role.granted", { eventversion: undefined }))).toBe(true);
    expect(structured(event("gov.auth.citizen.created", { traceparent: "nope" }))).toBe(false);
    expect(structured(event("gov.auth.citizen.created", { type: "gov.auth.citizen.creatd" }))).toBe(false);
    expect(structured(event("gov.auth.citizen.created", { data: { id: "not-a-number" } }))).toBe(false);
  });

  it("documents the legacy envelope and batches", () => {
    const legacy = {
      event_id: "L-1",
      event_type: "gov.auth.citizen.created",
      event_version: 2,
      timestamp: "2026-11-01T10:00:00Z",
      source: { service: "identity", instance: "identity-1" },
      data: {},
    };
    expect(json(legacy), JSON.stringify(json.errors)).toBe(true);
    const types = governmentCatalogue.types();
    expect(batch(types.map((type) => event(type)))).toBe(true);
    expect(batch([])).toBe(false);
    expect(batch(Array.from({ length: 101 }, () => event("gov.auth.citizen.created")))).toBe(false);
  });

  it("documents the response shapes", () => {
    const okReceipt = {
      id: "e-1",
      type: "gov.auth.citizen.created",
      status: "accepted",
      kafka: { topic: "gov.auth.citizen", partition: 0, offset: 4 },
      queues: ["archive", "kafka-mirror"],
    };
    expect(receipt(okReceipt), JSON.stringify(receipt.errors)).toBe(true);
    expect(receipt({ ...okReceipt, kafka: null })).toBe(true);
    expect(receipt({ ...okReceipt, status: "queued" })).toBe(false);
    expect(receipt({ ...okReceipt, queues: ["nowhere"] })).toBe(false);
    const error = { error: { code: "rate_limited", message: "slow down", request_id: "r-1", details: { limit: 5 } } };
    expect(errorBody(error), JSON.stringify(errorBody.errors)).toBe(true);
    expect(errorBody({ error: { ...error.error, code: "teapot" } })).toBe(false);
    expect(
      batchResponse({
        results: [
          { index: 0, status: 202, receipt: okReceipt },
          { index: 1, status: 422, error: error.error },
        ],
        accepted: 1,
        duplicate: 0,
        rejected: 1,
      }),
      JSON.stringify(batchResponse.errors),
    ).toBe(true);
  });
});
