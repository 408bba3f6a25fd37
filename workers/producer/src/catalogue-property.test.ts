/**
 * Property: for every type of every shipped catalogue (gov, commerce, learning, loaded together
 * with EDGEBUS_CATALOGUES), any valid generated event is accepted (202), and any
 * single-field corruption of its data — or of its envelope — is rejected with a 4xx naming
 * the problem, never a 5xx.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCatalogues, SHIPPED_CATALOGUES } from "../../../schemas/catalogues.ts";
import { corruptedDataArbitrary, validDataArbitrary } from "../../../test/support/catalogue-arbitraries.ts";
import { createProducerApp } from "./app.ts";
import { MemoryPublisher } from "./brokers/memory-publisher.ts";
import { bearer, CE_JSON, mintKey, type ResponseJson, testEnv } from "./producer-test-harness.ts";

const SETTING = Object.keys(SHIPPED_CATALOGUES).join(",");
const catalogues = loadCatalogues(SETTING);
/** The catalogue (one namespace) a type belongs to, for the arbitraries. */
const catalogueOf = (type: string) => {
  const plugin = catalogues.pluginOf(type);
  if (plugin === undefined) throw new Error(`no catalogue for ${type}`);
  return plugin.catalogue;
};

// Every type of three catalogues makes more requests than the default per-key limit allows a minute.
const key = await mintKey({ rate_limit: { requests: 100_000, window_seconds: 60 } });
const env = testEnv([key], { EDGEBUS_CATALOGUES: SETTING });
const app = createProducerApp({
  capabilities: () => ({ queues: new MemoryPublisher(), kafka: new MemoryPublisher() }),
});

async function publish(event: Record<string, unknown>) {
  const response = await app.request(
    "/v1/events",
    { method: "POST", body: JSON.stringify(event), headers: { ...CE_JSON, ...bearer(key) } },
    env,
  );
  return { status: response.status, json: (await response.json()) as ResponseJson };
}

/** A valid envelope; `eventversion` only where the type requires it, so both cases stay covered. */
function envelope(type: string, data: unknown): Record<string, unknown> {
  const versioned = catalogues.require(type).requiresEventVersion ? { eventversion: 1 } : {};
  return { specversion: "1.0", id: crypto.randomUUID(), source: "/services/property", type, ...versioned, data };
}

/** Envelope-level single-field corruptions and the code each must produce. */
const ENVELOPE_CORRUPTIONS: [string, (event: Record<string, unknown>) => void, string][] = [
  ["no id", (e) => delete e.id, "invalid_envelope"],
  ["numeric id", (e) => (e.id = 42), "invalid_envelope"],
  ["no source", (e) => delete e.source, "invalid_envelope"],
  ["specversion 2.0", (e) => (e.specversion = "2.0"), "invalid_envelope"],
  ["time not RFC 3339", (e) => (e.time = "31/12/2026"), "invalid_envelope"],
  ["negative eventversion", (e) => (e.eventversion = -1), "invalid_envelope"],
  ["type with a typo", (e) => (e.type = `${String(e.type)}x`), "unknown_event_type"],
  ["non-JSON datacontenttype", (e) => (e.datacontenttype = "text/xml"), "invalid_envelope"],
];

/** Corruptions that only types with `requiresEventVersion` refuse. */
const VERSION_CORRUPTIONS: typeof ENVELOPE_CORRUPTIONS = [
  ["no eventversion", (e) => delete e.eventversion, "schema_validation_failed"],
];

function envelopeCorruptions(type: string): typeof ENVELOPE_CORRUPTIONS {
  return catalogues.require(type).requiresEventVersion
    ? [...ENVELOPE_CORRUPTIONS, ...VERSION_CORRUPTIONS]
    : ENVELOPE_CORRUPTIONS;
}

describe.each(catalogues.types())("%s", (type) => {
  it("accepts any valid generated data", async () => {
    await fc.assert(
      fc.asyncProperty(validDataArbitrary(catalogueOf(type), type), async (data) => {
        const { status, json } = await publish(envelope(type, data));
        expect(status, JSON.stringify(json)).toBe(202);
        expect(json.status).toBe("accepted");
      }),
      { numRuns: 15 },
    );
  });

  it("rejects any single-field corruption of data with 422 naming the field", async () => {
    await fc.assert(
      fc.asyncProperty(corruptedDataArbitrary(catalogueOf(type), type), async (corruption) => {
        const { status, json } = await publish(envelope(type, corruption.data));
        expect(status, `${corruption.kind} at ${corruption.path}`).toBe(422);
        expect(json.error.code).toBe("schema_validation_failed");
        expect(json.error.details.issues.map((i: { path: string }) => i.path)).toContain(corruption.path);
      }),
      { numRuns: 15 },
    );
  });

  it("rejects any single envelope corruption with a 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        validDataArbitrary(catalogueOf(type), type),
        fc.constantFrom(...envelopeCorruptions(type)),
        async (data, [name, corrupt, code]) => {
          const event = envelope(type, data);
          corrupt(event);
          const { status, json } = await publish(event);
          expect(status, name).toBeGreaterThanOrEqual(400);
          expect(status, name).toBeLessThan(500);
          expect(json.error.code, name).toBe(code);
        },
      ),
      { numRuns: 10 },
    );
  });
});
