/**
 * Access control of the producer, inside workerd with the real queue bindings and Kafka and
 * Redis behind a real bridge:
 * - each kind of key (one source, a type pattern, both) publishing outside its scope, in every
 *   envelope mode and in a batch, gets 403 and nothing reaches a queue, Kafka or Redis; the same
 *   key inside its scope is accepted (so the refusals are about scope, not something else);
 *   patterns are segment globs, so `/services/revenue/**` refuses `/services/revenue-evil`;
 * - a `source` with a `..`, `.` or empty segment is refused (400) whatever the key;
 * - every admin operation in `/openapi.json` (tag `admin`, so new admin routes are covered
 *   without touching this file) refuses a key without the admin scope (403) and a request
 *   without a key (401), before looking at the request.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { bearer, mintKey, structuredEvent } from "../../workers/producer/src/producer-test-harness.ts";
import { expectHostileInvariants, ProducerUnderFuzz } from "../fuzz/workerd/producer-under-fuzz.ts";

const bridge = inject("fuzzBridge");

const CE = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";
const JSON_TYPE = "application/json";

describe.skipIf(bridge === null)("producer access control", async () => {
  if (bridge === null) return;
  const limit = { requests: 1_000_000, window_seconds: 60 };
  const keys = {
    identityOnly: await mintKey({ sources: ["/services/identity"], types: ["**"], rate_limit: limit }),
    permitsTypesOnly: await mintKey({ sources: ["**"], types: ["gov.permits.**"], rate_limit: limit }),
    revenueBoth: await mintKey({
      sources: ["/services/revenue/**"],
      types: ["gov.revenue.payment.*"],
      rate_limit: limit,
    }),
    nothing: await mintKey({ sources: [], types: [], rate_limit: limit }),
    admin: await mintKey({ sources: [], types: [], admin: true, rate_limit: limit }),
  };
  const producer = new ProducerUnderFuzz(bridge, Object.values(keys));

  /** An event each key may publish, and events outside its scope (with what is outside). */
  const cases: {
    key: keyof typeof keys;
    allowed?: () => Record<string, unknown>;
    refused: [string, () => Record<string, unknown>][];
  }[] = [
    {
      key: "identityOnly",
      allowed: () => structuredEvent("gov.auth.citizen.created", { source: "/services/identity" }),
      refused: [
        ["another source", () => structuredEvent("gov.auth.citizen.created", { source: "/services/identity-evil" })],
        ["a source prefix", () => structuredEvent("gov.auth.citizen.created", { source: "/services/identit" })],
        ["a source below it", () => structuredEvent("gov.auth.citizen.created", { source: "/services/identity/x" })],
      ],
    },
    {
      key: "permitsTypesOnly",
      allowed: () => structuredEvent("gov.permits.application.submitted", { source: "/services/permits" }),
      refused: [
        ["a type of another domain", () => structuredEvent("gov.auth.citizen.created")],
        [
          "a type that only starts like the pattern",
          () => structuredEvent("gov.revenue.payment.completed", { source: "/services/gov.permits." }),
        ],
      ],
    },
    {
      key: "revenueBoth",
      allowed: () => structuredEvent("gov.revenue.payment.completed", { source: "/services/revenue/eu-west" }),
      refused: [
        [
          "the right type from another source",
          () => structuredEvent("gov.revenue.payment.completed", { source: "/services/permits" }),
        ],
        [
          "the right source with another type",
          () => structuredEvent("gov.revenue.refund.issued", { source: "/services/revenue" }),
        ],
        [
          "a source that only starts like the pattern's path (revenue-evil)",
          () => structuredEvent("gov.revenue.payment.completed", { source: "/services/revenue-evil" }),
        ],
        [
          "a source whose segment only starts like the pattern's (revenueX/y)",
          () => structuredEvent("gov.revenue.payment.completed", { source: "/services/revenueX/y" }),
        ],
      ],
    },
    { key: "nothing", refused: [["anything", () => structuredEvent("gov.auth.citizen.created")]] },
    {
      key: "admin",
      refused: [["anything (admin is not a publish scope)", () => structuredEvent("gov.auth.citizen.created")]],
    },
  ];

  function asLegacy(event: Record<string, unknown>): Record<string, unknown> {
    return {
      event_id: event.id,
      event_type: event.type,
      event_version: 1,
      source: event.source,
      data: event.data,
    };
  }

  /** The same event as a structured, legacy and binary request, and as a one-event batch. */
  function requests(event: Record<string, unknown>): [string, string, RequestInit][] {
    const binaryHeaders: Record<string, string> = {
      "Content-Type": JSON_TYPE,
      "ce-specversion": "1.0",
      "ce-id": String(event.id),
      "ce-source": encodeURIComponent(String(event.source)),
      "ce-type": String(event.type),
      "ce-eventversion": "1",
    };
    return [
      ["structured", "/v1/events", { method: "POST", body: JSON.stringify(event), headers: { "Content-Type": CE } }],
      [
        "legacy",
        "/v1/events",
        { method: "POST", body: JSON.stringify(asLegacy(event)), headers: { "Content-Type": JSON_TYPE } },
      ],
      ["binary", "/v1/events", { method: "POST", body: JSON.stringify(event.data), headers: binaryHeaders }],
      [
        "batch",
        "/v1/events/batch",
        { method: "POST", body: JSON.stringify([event]), headers: { "Content-Type": BATCH } },
      ],
    ];
  }

  for (const { key, allowed, refused } of cases) {
    for (const [outside, make] of refused) {
      it(`${key}: ${outside} → 403 in every mode, nothing published`, async () => {
        for (const [mode, path, init] of requests(make())) {
          const exchange = await producer.exchange(path, {
            ...init,
            headers: { ...(init.headers as Record<string, string>), ...bearer(keys[key]) },
          });
          expectHostileInvariants(exchange);
          const body = JSON.parse(exchange.text);
          if (mode === "batch") {
            expect(exchange.status, exchange.text).toBe(200);
            expect(body.results[0].status, `${mode}: ${exchange.text}`).toBe(403);
            expect(body.results[0].error.code).toBe("forbidden");
            expect(exchange.queued, mode).toEqual([]);
            expect(exchange.kafkaProduced, mode).toBe(0);
            expect(exchange.dedupRecords, mode).toBe(0);
          } else {
            expect(exchange.status, `${mode}: ${exchange.text}`).toBe(403);
            expect(body.error.code).toBe("forbidden");
          }
        }
      });
    }
    if (allowed !== undefined) {
      it(`${key}: inside its scope → 202 and published`, async () => {
        const exchange = await producer.exchange("/v1/events", {
          method: "POST",
          body: JSON.stringify(allowed()),
          headers: { "Content-Type": CE, ...bearer(keys[key]) },
        });
        expect(exchange.status, exchange.text).toBe(202);
        expectHostileInvariants(exchange);
        expect(exchange.queued.length).toBeGreaterThan(0);
      });
    }
  }

  it("a source with a '..', '.' or empty segment → 400 in every mode whatever the key, nothing published", async () => {
    const anything = await mintKey({ sources: ["**"], types: ["**"], rate_limit: limit });
    const app = new ProducerUnderFuzz(bridge, [anything]);
    for (const source of [
      "/services/revenue/../identity",
      "/services/revenue/%2e%2e/identity",
      "/services/./revenue",
      "/services//revenue",
      "/services/revenue/",
    ]) {
      for (const [mode, path, init] of requests(structuredEvent("gov.revenue.payment.completed", { source }))) {
        const exchange = await app.exchange(path, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), ...bearer(anything) },
        });
        expectHostileInvariants(exchange);
        const body = JSON.parse(exchange.text);
        const error = mode === "batch" ? body.results[0].error : body.error;
        const status = mode === "batch" ? body.results[0].status : exchange.status;
        expect(status, `${mode} ${source}: ${exchange.text}`).toBe(400);
        expect(error.code).toBe("invalid_envelope");
        expect(error.details.issues[0].path).toBe("source");
        expect(exchange.queued, mode).toEqual([]);
      }
    }
  });

  describe("admin operations from /openapi.json", () => {
    interface Operation {
      method: string;
      path: string;
    }
    let operations: Operation[] = [];

    beforeAll(async () => {
      const response = await producer.app.request("/openapi.json", {}, producer.env);
      expect(response.status).toBe(200);
      const document = (await response.json()) as {
        paths: Record<string, Record<string, { tags?: string[]; security?: unknown[] }>>;
      };
      operations = Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.entries(methods)
          .filter(([, operation]) => operation.tags?.includes("admin"))
          .map(([method, _]) => ({ method: method.toUpperCase(), path })),
      );
    });

    /** A concrete URL for a templated path (`{id}` → a plausible id). */
    const concrete = (path: string) => path.replace(/\{[^}]+\}/g, "00000000-0000-4000-8000-000000000001");

    it("lists the admin operations of the public contract (dead letters, replay)", () => {
      const paths = new Set(operations.map((o) => o.path));
      expect(paths).toContain("/v1/dead-letters");
      expect([...paths].some((p) => p.startsWith("/v1/dead-letters/") && p.endsWith("/replay"))).toBe(true);
      expect(paths).toContain("/v1/replay");
    });

    it("every admin operation: no key → 401, a publishing key → 403, nothing published", async () => {
      const publisher = await mintKey({ sources: ["**"], types: ["**"], rate_limit: limit });
      const app = new ProducerUnderFuzz(bridge, [publisher, keys.admin]);
      for (const { method, path } of operations) {
        const url = concrete(path);
        // The admin control below really runs the operation against the shared test database:
        // a dry run over a type pattern nothing has, so it starts no work and changes nothing.
        const body =
          method === "GET" || method === "DELETE"
            ? undefined
            : JSON.stringify({ type: "gov.fuzz.nothing.*", dry_run: true });
        const headers: Record<string, string> = body === undefined ? {} : { "Content-Type": JSON_TYPE };
        const anonymous = await app.exchange(url, { method, body, headers });
        expect(anonymous.status, `${method} ${path} without a key: ${anonymous.text}`).toBe(401);
        expectHostileInvariants(anonymous);
        const publishing = await app.exchange(url, { method, body, headers: { ...headers, ...bearer(publisher) } });
        expect(publishing.status, `${method} ${path} with a publishing key: ${publishing.text}`).toBe(403);
        expect(JSON.parse(publishing.text).error.code).toBe("forbidden");
        expectHostileInvariants(publishing);
        // Control: the admin key gets past authorisation. What the route answers then is not this
        // suite's business (this project's Hyperdrive binding points at no database: 503).
        const admin = await app.exchange(url, { method, body, headers: { ...headers, ...bearer(keys.admin) } });
        expect([401, 403], `${method} ${path} with the admin key: ${admin.text}`).not.toContain(admin.status);
      }
      expect(operations.length).toBeGreaterThanOrEqual(3);
    });
  });
});
