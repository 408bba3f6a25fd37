/**
 * Two hostile-input properties of the producer, with the same invariants as the rest of the fuzz
 * (`expectHostileInvariants`: no 5xx, the one error shape, nothing of a refusal in a queue, Kafka
 * or Redis), and sharper answers:
 *
 * - poison text: U+0000 or an unpaired surrogate placed into any field or field name of a
 *   structured event or legacy envelope, any `ce-*` header of binary mode (percent-encoded) or
 *   binary data, or one item of a batch, is refused with 422 `schema_validation_failed` (an
 *   encoded lone surrogate in a header is not UTF-8: 400), and only that item of a batch;
 * - scope-glob abuse: keys with segment-glob patterns (`/services/revenue/**`, `/services/*\/inbound`,
 *   `gov.revenue.**`, a pathological `*a*a…*b`) against sources built to slip past them (`-evil`
 *   siblings, `..`, `.`, `%2e%2e`, empty segments, case, long runs of segments): the producer
 *   publishes exactly when an independent reference matcher admits the event, answers 400 for a
 *   source with a dot or empty segment, 403 for the rest, and quickly.
 */
import fc from "fast-check";
import { afterAll, describe, expect, inject, it } from "vitest";
import { governmentCatalogue } from "../../schemas/index.ts";
import { bearer, mintKey, structuredEvent } from "../../workers/producer/src/producer-test-harness.ts";
import { FuzzTally, fuzzParameters } from "./support/fuzz-settings.ts";
import { valuePaths } from "./support/hostile-inputs.ts";
import { expectHostileInvariants, ProducerUnderFuzz } from "./workerd/producer-under-fuzz.ts";

const bridge = inject("fuzzBridge");
const settings = { runs: inject("fuzzRuns") ?? undefined, seed: inject("fuzzSeed") ?? undefined };
const tally = new FuzzTally("producer poison and scope");
const TYPES = governmentCatalogue.types();
const STRUCTURED = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";
const JSON_TYPE = "application/json";

/** Characters Postgres cannot store: NUL, lone high and low surrogates, and a reversed pair. */
const poisonChar = fc.constantFrom("\u0000", "\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800");

/** `text` with a poison character at some position. */
const poisoned = (text: string) =>
  fc
    .tuple(poisonChar, fc.nat({ max: text.length }))
    .map(([poison, at]) => `${text.slice(0, at)}${poison}${text.slice(at)}`);

type Path = (string | number)[];

/** A copy of `document` with the string at `path` poisoned, or the key at `path` renamed to a poisoned one. */
function poisonAt(document: unknown, path: Path, replacement: string, renameKey: boolean): unknown {
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (renameKey && typeof last === "string" && !Array.isArray(parent)) {
    const value = parent[last];
    delete parent[last];
    parent[replacement] = value;
  } else {
    parent[last] = replacement;
  }
  return copy;
}

/** A field to poison: its path, and the text to put there (the field's own text when it is a string, or its key). */
function poisonTarget(document: Record<string, unknown>) {
  const paths = valuePaths(document);
  return fc.constantFrom(...paths).chain((path) => {
    let value: unknown = document;
    for (const key of path) value = (value as Record<string | number, unknown>)[key];
    const last = path.at(-1);
    const canRename = typeof last === "string";
    return fc.record({
      path: fc.constant(path),
      renameKey: canRename ? fc.boolean() : fc.constant(false),
      text: fc.constant(typeof value === "string" ? value : typeof last === "string" ? last : "x"),
    });
  });
}

function legacyEvent(type: string): Record<string, unknown> {
  const { id, source, data } = structuredEvent(type);
  return {
    event_id: id,
    event_type: type,
    event_version: 1,
    correlation_id: `corr-${id}`,
    source: { service: source, instance: "fuzz-1", version: "1.0.0" },
    data,
  };
}

/** Independent reference of the segment-glob rule, by recursion and regular expressions (small inputs only). */
function referenceMatches(pattern: string, value: string, separator: string): boolean {
  const globs = pattern.split(separator);
  const segments = value.split(separator);
  // Dynamic programming over one segment (a regular expression would backtrack for hours on `*a*a…*b`).
  const segment = (glob: string, text: string) => {
    let row = Array.from({ length: text.length + 1 }, (_, j) => j === 0);
    for (const char of glob) {
      const next = new Array<boolean>(text.length + 1).fill(false);
      for (let j = 0; j <= text.length; j++) {
        if (char === "*") next[j] = (row[j] as boolean) || (j > 0 && (next[j - 1] as boolean));
        else next[j] = j > 0 && (row[j - 1] as boolean) && text[j - 1] === char;
      }
      row = next;
    }
    return row[text.length] as boolean;
  };
  const memo = new Map<string, boolean>();
  const match = (g: number, s: number): boolean => {
    const key = `${g},${s}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (g === globs.length) result = s === segments.length;
    else if (globs[g] === "**") result = match(g + 1, s) || (s < segments.length && match(g, s + 1));
    else result = s < segments.length && segment(globs[g] as string, segments[s] as string) && match(g + 1, s + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}

/** A source the producer refuses before scopes: a dot segment (also encoded) or an empty one. */
function referenceSourceRefused(source: string): boolean {
  const segments = source.split("/");
  return segments.some((segment, index) => {
    const decoded = segment.replace(/%2e/gi, ".");
    if (decoded === "." || decoded === "..") return true;
    if (segment !== "") return false;
    const leading = index === 0 && segments.length > 1;
    const afterScheme = index === 1 && /^[A-Za-z][A-Za-z0-9+.-]*:$/.test(segments[0] ?? "") && segments.length > 2;
    return !leading && !afterScheme;
  });
}

describe.skipIf(bridge === null)("producer: poison text and scope-glob abuse", async () => {
  if (bridge === null) return;
  const limit = { requests: 10_000_000, window_seconds: 60 };
  const anything = await mintKey({ sources: ["**"], types: ["**"], rate_limit: limit });
  const producer = new ProducerUnderFuzz(bridge, [anything]);
  const auth = bearer(anything);

  afterAll(() => tally.print());

  function expectPoisonRefused(status: number, text: string, allowed: readonly number[] = [422]): void {
    expect(allowed, text).toContain(status);
    if (status === 422) expect(JSON.parse(text).error.code, text).toBe("schema_validation_failed");
  }

  it("poison text in any field or field name of a structured event → 422, nothing published", async () => {
    const property = "poison structured";
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TYPES).chain((type) => {
          const event = structuredEvent(type, { correlationid: "c-1", partitionkey: "p-1", subject: "s-1" });
          return fc.tuple(
            fc.constant(event),
            poisonTarget(event).chain((target) => poisoned(target.text).map((text) => ({ ...target, text }))),
          );
        }),
        async ([event, target]) => {
          event.id = crypto.randomUUID();
          const body = JSON.stringify(poisonAt(event, target.path, target.text, target.renameKey));
          const exchange = await producer.exchange("/v1/events", {
            method: "POST",
            body,
            headers: { "Content-Type": STRUCTURED, ...auth },
          });
          tally.record(property, expectHostileInvariants(exchange));
          expectPoisonRefused(exchange.status, exchange.text);
        },
      ),
      fuzzParameters(settings, 120),
    );
  });

  it("poison text in any field or field name of the legacy envelope → 422, nothing published", async () => {
    const property = "poison legacy";
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TYPES).chain((type) => {
          const event = legacyEvent(type);
          return fc.tuple(
            fc.constant(event),
            poisonTarget(event).chain((target) => poisoned(target.text).map((text) => ({ ...target, text }))),
          );
        }),
        async ([event, target]) => {
          event.event_id = crypto.randomUUID();
          const exchange = await producer.exchange("/v1/events", {
            method: "POST",
            body: JSON.stringify(poisonAt(event, target.path, target.text, target.renameKey)),
            headers: { "Content-Type": JSON_TYPE, ...auth },
          });
          tally.record(property, expectHostileInvariants(exchange));
          // Renaming event_id or event_type leaves no legacy envelope to recognise: 400, as for any
          // application/json body that is neither binary mode nor a legacy envelope.
          const unrecognisable =
            target.renameKey && target.path.length === 1 && ["event_id", "event_type"].includes(String(target.path[0]));
          expectPoisonRefused(exchange.status, exchange.text, unrecognisable ? [400, 422] : [422]);
        },
      ),
      fuzzParameters(settings, 80),
    );
  });

  it("poison text in any ce-* header (percent-encoded) or in binary data → refused, nothing published", async () => {
    const property = "poison binary";
    const headerNames = [
      "ce-id",
      "ce-source",
      "ce-type",
      "ce-time",
      "ce-eventversion",
      "ce-correlationid",
      "ce-causationid",
      "ce-partitionkey",
      "ce-traceparent",
      "ce-subject",
      "ce-tenant",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TYPES),
        fc.oneof(
          fc.record({ header: fc.constantFrom(...headerNames), poison: poisonChar, at: fc.nat({ max: 40 }) }),
          fc.record({ data: fc.constant(true) }),
        ),
        fc.nat(),
        async (type, where, seed) => {
          const event = structuredEvent(type);
          const headers: Record<string, string> = {
            "Content-Type": JSON_TYPE,
            "ce-specversion": "1.0",
            "ce-id": event.id,
            "ce-source": event.source,
            "ce-type": type,
            "ce-eventversion": "1",
            ...auth,
          };
          let body = JSON.stringify(event.data);
          if ("header" in where) {
            const current = headers[where.header] ?? "value";
            const at = Math.min(where.at, current.length);
            // A lone surrogate has no UTF-8 form: its CESU-8 bytes are the closest a client can send.
            const encoded = where.poison === "\u0000" ? "%00" : "%ED%A0%80";
            headers[where.header] =
              `${encodeURIComponent(current.slice(0, at))}${encoded}${encodeURIComponent(current.slice(at))}`;
          } else {
            const paths = valuePaths(event.data);
            const path = paths[seed % Math.max(1, paths.length)] ?? ["x"];
            body = JSON.stringify(
              poisonAt(event.data, path, `a${"\u0000"}b`, seed % 2 === 0 && typeof path.at(-1) === "string"),
            );
          }
          const exchange = await producer.exchange("/v1/events", { method: "POST", body, headers });
          tally.record(property, expectHostileInvariants(exchange));
          // %00 decodes to U+0000 (422); an encoded lone surrogate is no UTF-8, so no header value (400).
          expectPoisonRefused(
            exchange.status,
            exchange.text,
            "header" in where && where.poison !== "\u0000" ? [400] : [422],
          );
        },
      ),
      fuzzParameters(settings, 80),
    );
  });

  it("a batch with poisoned items: those answer 422, the others are published", async () => {
    const property = "poison batch";
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(...TYPES),
        poisonChar,
        async (poisonedItems, type, poison) => {
          const events = poisonedItems.map((poisonIt) => {
            const event = structuredEvent(type);
            return poisonIt ? { ...event, correlationid: `c${poison}` } : event;
          });
          const exchange = await producer.exchange("/v1/events/batch", {
            method: "POST",
            body: JSON.stringify(events),
            headers: { "Content-Type": BATCH, ...auth },
          });
          tally.record(property, expectHostileInvariants(exchange));
          expect(exchange.status, exchange.text).toBe(200);
          const results = JSON.parse(exchange.text).results as { status: number; error?: { code: string } }[];
          expect(results.map((r) => r.status)).toEqual(poisonedItems.map((p) => (p ? 422 : 202)));
          const queuedIds = new Set(exchange.queued.map((m) => m.body.id));
          for (const [i, event] of events.entries()) {
            expect(queuedIds.has(event.id), `item ${i}`).toBe(!poisonedItems[i]);
          }
        },
      ),
      fuzzParameters(settings, 40),
    );
  });

  it("scope-glob abuse: published exactly when the segment-glob rule admits the event", async () => {
    const property = "scope globs";
    const keys = [
      await mintKey({
        id: "revenue-tree",
        sources: ["/services/revenue/**"],
        types: ["gov.revenue.**"],
        rate_limit: limit,
      }),
      await mintKey({
        id: "inbound",
        sources: ["/services/*/inbound", "**/relay"],
        types: ["gov.*.payment.*", "gov.auth.citizen.created"],
        rate_limit: limit,
      }),
      await mintKey({
        id: "prefix-in-segment",
        sources: ["/services/rev*"],
        types: ["gov.revenue.payment.completed"],
        rate_limit: limit,
      }),
      await mintKey({
        id: "pathological",
        sources: [`/services/${"*a".repeat(10)}*b`],
        types: ["**"],
        rate_limit: limit,
      }),
    ];
    const scoped = new ProducerUnderFuzz(bridge, keys);
    const plain = fc.constantFrom(
      "services",
      "revenue",
      "revenue-evil",
      "revenueX",
      "rev",
      "Revenue",
      "REVENUE",
      "inbound",
      "relay",
      "identity",
      "a",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
      "a".repeat(200),
    );
    /** Segments that must never let a source through: dot segments (also encoded) and empty ones. */
    const dotted = fc.constantFrom("..", ".", "", "%2e%2e", "%2E", "%2e", "%2E%2e");
    const segment = fc.oneof({ weight: 8, arbitrary: plain }, { weight: 1, arbitrary: dotted });
    const segments = (max: number) =>
      fc.array(segment, { minLength: 1, maxLength: max }).map((parts) => parts.join("/"));
    const source = fc.oneof(
      { weight: 3, arbitrary: segments(4).map((rest) => `/services/revenue/${rest}`) },
      { weight: 3, arbitrary: segments(3).map((rest) => `/services/${rest}`) },
      { weight: 2, arbitrary: segment.map((middle) => `/services/${middle}/inbound`) },
      segments(4).map((rest) => `/${rest}/relay`),
      segments(6).map((rest) => `/${rest}`),
      segments(4),
      fc.constantFrom("/services/revenue", "/services/revenue-evil", "/services/rev", "/services/revenue/"),
      fc.integer({ min: 1, max: 100 }).map((n) => `/services/${Array.from({ length: n }, () => "revenue").join("/")}`),
    );
    await fc.assert(
      fc.asyncProperty(
        // Half the time a type the key may publish, so that the source decides.
        fc.constantFrom(...keys).chain((key) => {
          const allowed = TYPES.filter((t) => key.entry.types.some((pattern) => referenceMatches(pattern, t, ".")));
          return fc.tuple(fc.constant(key), fc.oneof(fc.constantFrom(...TYPES), fc.constantFrom(...allowed)));
        }),
        source.filter((s) => s.length <= 1024 && s.length > 0),
        fc.boolean(),
        async ([key, type], eventSource, binary) => {
          const event = structuredEvent(type, { source: eventSource });
          const init: RequestInit = binary
            ? {
                method: "POST",
                body: JSON.stringify(event.data),
                headers: {
                  "Content-Type": JSON_TYPE,
                  "ce-specversion": "1.0",
                  "ce-id": event.id,
                  "ce-source": encodeURIComponent(eventSource),
                  "ce-type": type,
                  "ce-eventversion": "1",
                  ...bearer(key),
                },
              }
            : { method: "POST", body: JSON.stringify(event), headers: { "Content-Type": STRUCTURED, ...bearer(key) } };
          const started = performance.now();
          const exchange = await scoped.exchange("/v1/events", init);
          const elapsed = performance.now() - started;
          tally.record(property, expectHostileInvariants(exchange));
          const refusedSource = referenceSourceRefused(eventSource);
          const admitted =
            !refusedSource &&
            key.entry.sources.some((pattern) => referenceMatches(pattern, eventSource, "/")) &&
            key.entry.types.some((pattern) => referenceMatches(pattern, type, "."));
          const what = `${key.entry.id} ${eventSource} ${type}: ${exchange.status} ${exchange.text.slice(0, 200)}`;
          if (refusedSource) {
            expect(exchange.status, what).toBe(400);
            expect(JSON.parse(exchange.text).error.details.issues[0].path, what).toBe("source");
          } else if (admitted) {
            expect(exchange.status, what).toBe(202);
            expect(exchange.queued.length, what).toBeGreaterThan(0);
          } else {
            expect(exchange.status, what).toBe(403);
          }
          if (!admitted) expect(exchange.queued, what).toEqual([]);
          expect(elapsed, `${what}: took ${Math.round(elapsed)} ms`).toBeLessThan(5_000);
        },
      ),
      fuzzParameters(settings, 150),
    );
  });
});
