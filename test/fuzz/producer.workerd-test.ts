/**
 * Hostile input against the producer API, inside workerd, with the real queue bindings and Kafka
 * and Redis behind a real bridge. Every property sends generated requests and checks the same
 * invariants (`expectHostileInvariants`): no 5xx, every rejection in the one error shape with a
 * reason, and nothing from a rejected request in a queue, in Kafka or in Redis. After the
 * properties the same app still serves a valid event.
 *
 * Runs per property: EDGEBUS_FUZZ_RUNS (full form) or the short defaults below (CI).
 */
import fc from "fast-check";
import { afterAll, describe, expect, inject, it } from "vitest";
import { BINARY_MODE_HEADERS } from "#shared/envelope/cloud-event.ts";
import { governmentCatalogue } from "../../schemas/index.ts";
import { ENVELOPE_LIMITS } from "../../workers/producer/src/envelope/limits.ts";
import { bearer, mintKey, structuredEvent } from "../../workers/producer/src/producer-test-harness.ts";
import { FuzzTally, fuzzParameters } from "./support/fuzz-settings.ts";
import {
  contentTypes,
  corruptedBytes,
  DEEP_NESTING,
  deeplyNested,
  type HostileValue,
  hostileValue,
  injectionString,
  oversizeHeaderValue,
  serialiseHostile,
  truncations,
  valuePaths,
  wrongAuthorizations,
} from "./support/hostile-inputs.ts";
import { expectHostileInvariants, ProducerUnderFuzz } from "./workerd/producer-under-fuzz.ts";

const bridge = inject("fuzzBridge");
const settings = { runs: inject("fuzzRuns") ?? undefined, seed: inject("fuzzSeed") ?? undefined };
const tally = new FuzzTally("producer");

const STRUCTURED = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";
const JSON_TYPE = "application/json";
const TYPES = governmentCatalogue.types();

/** Extension and envelope attributes a hostile client may add that the valid events lack. */
const EXTRA_ATTRIBUTES = [
  "time",
  "subject",
  "dataschema",
  "datacontenttype",
  "data_base64",
  "correlationid",
  "causationid",
  "partitionkey",
  "traceparent",
  "tracestate",
  "__proto__",
  "constructor",
  "x-forwarded-for",
  "UPPER",
];

function legacyEvent(type: string): Record<string, unknown> {
  const { id, source, data } = structuredEvent(type);
  return {
    event_id: id,
    event_type: type,
    event_version: 1,
    timestamp: new Date().toISOString(),
    correlation_id: `corr-${id}`,
    causation_id: `cause-${id}`,
    source: { service: source, instance: "fuzz-1", version: "1.0.0" },
    data,
  };
}

/** A field to attack: an existing path (or a new attribute at the top level) and what to put there. */
function attack(document: Record<string, unknown>): fc.Arbitrary<{ path: (string | number)[]; value?: HostileValue }> {
  const paths = [...valuePaths(document), ...EXTRA_ATTRIBUTES.map((name) => [name])];
  return fc.record({ path: fc.constantFrom(...paths), value: hostileValue }, { requiredKeys: ["path"] });
}

describe.skipIf(bridge === null)("producer under hostile input", async () => {
  if (bridge === null) return;
  const key = await mintKey({ rate_limit: { requests: 10_000_000, window_seconds: 60 } });
  const producer = new ProducerUnderFuzz(bridge, [key]);
  const auth = bearer(key);

  async function check(property: string, path: string, init: RequestInit): Promise<void> {
    const exchange = await producer.exchange(path, init);
    tally.record(property, expectHostileInvariants(exchange));
  }

  afterAll(() => tally.print());

  it("a hostile value in any field of a structured CloudEvent", async () => {
    const property = "structured field";
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TYPES).chain((type) => {
          const event = structuredEvent(type, { correlationid: "c-1", partitionkey: "p-1" });
          return fc.tuple(fc.constant(event), attack(event));
        }),
        async (pair) => {
          const [event, { path, value }] = pair;
          event.id = crypto.randomUUID();
          const body = serialiseHostile(event, path, value);
          await check(property, "/v1/events", {
            method: "POST",
            body,
            headers: { "Content-Type": STRUCTURED, ...auth },
          });
        },
      ),
      fuzzParameters(settings, 250),
    );
  });

  it("a hostile value in any field of the legacy envelope", async () => {
    const property = "legacy field";
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TYPES).chain((type) => {
          const event = legacyEvent(type);
          return fc.tuple(fc.constant(event), attack(event));
        }),
        async ([event, { path, value }]) => {
          event.event_id = crypto.randomUUID();
          const body = serialiseHostile(event, path, value);
          await check(property, "/v1/events", {
            method: "POST",
            body,
            headers: { "Content-Type": JSON_TYPE, ...auth },
          });
        },
      ),
      fuzzParameters(settings, 150),
    );
  });

  it("hostile ce-* headers in binary mode", async () => {
    const property = "binary headers";
    // Every header binary mode reads, plus ce-datacontenttype (content-type carries it) and an unknown one.
    const headerNames = [...BINARY_MODE_HEADERS, "ce-datacontenttype", "ce-x"];
    /** Header values are percent-encoded in binary mode; raw ones test the decoder too. */
    const headerValue = fc.oneof(
      injectionString.map((text) => {
        try {
          return encodeURIComponent(text);
        } catch {
          return "%ED%A0%80"; // a lone surrogate cannot be encoded; send its UTF-8 bytes instead
        }
      }),
      fc.constantFrom("%", "%zz", "%E0%A4%A", "%C0%AF", "%00", "1e400", "-0", "18446744073709551616", "%0D%0A"),
      fc.constant(oversizeHeaderValue(110)),
      fc.stringMatching(/^[\x20-\x7e]{0,60}$/),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TYPES),
        fc.constantFrom(...headerNames),
        headerValue,
        async (type, name, value) => {
          const event = structuredEvent(type);
          const headers: Record<string, string> = {
            "Content-Type": JSON_TYPE,
            "ce-specversion": "1.0",
            "ce-id": event.id,
            "ce-source": event.source,
            "ce-type": type,
            "ce-eventversion": "1",
            ...auth,
            [name]: value,
          };
          await check(property, "/v1/events", { method: "POST", body: JSON.stringify(event.data), headers });
        },
      ),
      fuzzParameters(settings, 120),
    );
  });

  it("truncated and byte-corrupted bodies (invalid UTF-8, encoded lone surrogates) in every mode", async () => {
    const property = "truncated or corrupted";
    const modes = fc.constantFrom(
      { path: "/v1/events", contentType: STRUCTURED, text: () => JSON.stringify(structuredEvent(TYPES[0])) },
      { path: "/v1/events", contentType: JSON_TYPE, text: () => JSON.stringify(legacyEvent(TYPES[1] ?? "")) },
      {
        path: "/v1/events/batch",
        contentType: BATCH,
        text: () => JSON.stringify([structuredEvent(TYPES[2]), structuredEvent(TYPES[3])]),
      },
    );
    await fc.assert(
      fc.asyncProperty(
        modes.chain((mode) => {
          const text = mode.text();
          return fc.tuple(
            fc.constant(mode),
            fc.oneof(
              truncations(text),
              corruptedBytes(text),
              truncations(text).chain((cut) => corruptedBytes(cut)),
            ),
          );
        }),
        async ([mode, body]) => {
          await check(property, mode.path, {
            method: "POST",
            body,
            headers: { "Content-Type": mode.contentType, ...auth },
          });
        },
      ),
      fuzzParameters(settings, 150),
    );
  });

  it("wrong, missing and odd content types and charsets on valid bodies", async () => {
    const property = "content type";
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/v1/events", "/v1/events/batch"),
        fc.constantFrom<"structured" | "legacy" | "batch">("structured", "legacy", "batch"),
        contentTypes([STRUCTURED, BATCH, JSON_TYPE]),
        async (path, shape, contentType) => {
          const body =
            shape === "structured"
              ? structuredEvent(TYPES[0])
              : shape === "legacy"
                ? legacyEvent(TYPES[0] ?? "")
                : [structuredEvent(TYPES[0])];
          const headers: Record<string, string> = { ...auth };
          if (contentType !== undefined) headers["Content-Type"] = contentType;
          await check(property, path, { method: "POST", body: JSON.stringify(body), headers });
        },
      ),
      fuzzParameters(settings, 120),
    );
  });

  it("bodies over the limits (declared and streamed) and 100 KB+ headers", async () => {
    const property = "oversize";
    const oversizeBody = fc.constantFrom(
      { path: "/v1/events", bytes: ENVELOPE_LIMITS.maxRequestBytes + 1, contentType: STRUCTURED },
      { path: "/v1/events", bytes: 4 * ENVELOPE_LIMITS.maxRequestBytes, contentType: JSON_TYPE },
      { path: "/v1/events/batch", bytes: ENVELOPE_LIMITS.maxBatchBytes + 1, contentType: BATCH },
    );
    const bodyKind = fc.constantFrom("string", "stream", "declared");
    const bigHeader = fc.constantFrom(
      "x-request-id",
      "authorization",
      "content-type",
      "ce-type",
      "x-anything",
      "cookie",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          oversizeBody.map((b) => ({ body: b })),
          bigHeader.map((h) => ({ header: h })),
        ),
        bodyKind,
        async (which, kind) => {
          if ("body" in which) {
            const { path, bytes, contentType } = which.body;
            // A JSON string literal padded to the size: a valid event would be accepted, so size is the only fault.
            const event = JSON.stringify({ ...structuredEvent(TYPES[0]), pad: "" });
            const text = event.replace('"pad":""', `"pad":"${"p".repeat(Math.max(0, bytes - event.length))}"`);
            const payload = path.endsWith("batch") ? `[${text}]` : text;
            const headers: Record<string, string> = { "Content-Type": contentType, ...auth };
            let body: BodyInit = payload;
            if (kind === "stream") {
              const encoded = new TextEncoder().encode(payload);
              body = new ReadableStream({
                start(controller) {
                  for (let at = 0; at < encoded.length; at += 16_384)
                    controller.enqueue(encoded.slice(at, at + 16_384));
                  controller.close();
                },
              });
            }
            if (kind === "declared") headers["Content-Length"] = String(new TextEncoder().encode(payload).length);
            await check(property, path, {
              method: "POST",
              body,
              headers,
              ...(kind === "stream" ? { duplex: "half" } : {}),
            } as RequestInit);
            return;
          }
          const headers: Record<string, string> = { "Content-Type": STRUCTURED, ...auth };
          headers[which.header] =
            which.header === "authorization" ? `Bearer ${oversizeHeaderValue(110)}` : oversizeHeaderValue(110);
          await check(property, "/v1/events", {
            method: "POST",
            body: JSON.stringify(structuredEvent(TYPES[0])),
            headers,
          });
        },
      ),
      fuzzParameters(settings, 40),
    );
  });

  it(`deep nesting (${DEEP_NESTING} levels) and huge numbers as the whole body or a batch item`, async () => {
    const property = "nesting and numbers";
    // Functions, so that a failing case prints its recipe rather than 60 kB of brackets.
    const bodies = fc.constantFrom(
      () => deeplyNested(DEEP_NESTING, "array"),
      () => deeplyNested(DEEP_NESTING, "object"),
      () => `[${deeplyNested(DEEP_NESTING, "object")}]`,
      () => `[${serialiseHostile(structuredEvent(TYPES[0]), ["data"], { kind: "nested", shape: "array" })}]`,
      () => "1e400",
      () => "-0",
      () => "18446744073709551616",
      () => `[${"1e400,".repeat(99)}1e400]`,
      () => `{"specversion":"1.0","id":1e400,"source":-0,"type":18446744073709551616}`,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          { path: "/v1/events", contentType: STRUCTURED },
          { path: "/v1/events", contentType: JSON_TYPE },
          { path: "/v1/events/batch", contentType: BATCH },
        ),
        bodies,
        async (target, body) => {
          await check(property, target.path, {
            method: "POST",
            body: body(),
            headers: { "Content-Type": target.contentType, ...auth },
          });
        },
      ),
      fuzzParameters(settings, 40),
    );
  });

  it("a batch mixing valid events with hostile ones: only the valid ones are published", async () => {
    const property = "batch items";
    const item = fc.oneof(
      fc.constantFrom(...TYPES).map((type) => JSON.stringify(structuredEvent(type))),
      fc.constantFrom(...TYPES).chain((type) => {
        const event = structuredEvent(type);
        return attack(event).map(({ path, value }) => serialiseHostile(event, path, value));
      }),
      fc.constantFrom("null", "1e400", '"event"', "[]", "{}", "NESTED"),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 8 }), async (items) => {
        const texts = items.map((text) => (text === "NESTED" ? deeplyNested(DEEP_NESTING, "array") : text));
        await check(property, "/v1/events/batch", {
          method: "POST",
          body: `[${texts.join(",")}]`,
          headers: { "Content-Type": BATCH, ...auth },
        });
      }),
      fuzzParameters(settings, 80),
    );
  });

  it("wrong credentials never publish, whatever the body", async () => {
    const property = "wrong credentials";
    await fc.assert(
      fc.asyncProperty(wrongAuthorizations("Bearer"), fc.constantFrom(...TYPES), async (authorization, type) => {
        const headers: Record<string, string> = { "Content-Type": STRUCTURED };
        if (authorization !== undefined) headers.Authorization = authorization;
        const exchange = await producer.exchange("/v1/events", {
          method: "POST",
          body: JSON.stringify(structuredEvent(type)),
          headers,
        });
        tally.record(property, expectHostileInvariants(exchange));
        expect(exchange.status, exchange.text).toBe(401);
        expect(exchange.headers.get("www-authenticate")).toContain("Bearer");
      }),
      fuzzParameters(settings, 60),
    );
  });

  it("unknown routes and methods, admin-looking paths included, answer 4xx in the error shape", async () => {
    const property = "unknown routes";
    const segments = fc.constantFrom(
      "v1",
      "admin",
      "dead-letters",
      "replay",
      "events",
      "..",
      "%2e%2e",
      "%00",
      "__proto__",
      "constructor",
      "openapi.json",
      "healthz",
      "schemas",
      ";",
      "%ZZ",
      "a".repeat(5_000),
    );
    const paths = fc.oneof(
      fc.array(segments, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join("/")}`),
      fc.webPath().map((path) => (path.startsWith("/") ? path : `/${path}`)),
      fc.constantFrom("/v1/admin", "/v1/admin/keys", "/v1/dead-letters/../../admin", "/v1/replay/%00", "//v1/events"),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"),
        paths,
        fc.boolean(),
        async (method, path, authenticated) => {
          const exchange = await producer.exchange(path, { method, headers: authenticated ? auth : {} });
          tally.record(property, expectHostileInvariants(exchange));
        },
      ),
      fuzzParameters(settings, 150),
    );
  });

  it("still serves: a valid event is accepted and published after all of the above", async () => {
    const event = structuredEvent(TYPES[0]);
    const exchange = await producer.exchange("/v1/events", {
      method: "POST",
      body: JSON.stringify(event),
      headers: { "Content-Type": STRUCTURED, ...auth },
    });
    expect(exchange.status, exchange.text).toBe(202);
    expectHostileInvariants(exchange);
    expect(exchange.kafkaProduced).toBe(1);
    expect(exchange.queued.length).toBeGreaterThan(0);
    const health = await producer.app.request("/healthz", {}, producer.env);
    expect(health.status).toBe(200);
  });
});
