/**
 * Property: no request a client can send makes the producer answer 5xx while its backends are
 * healthy. Bodies, content types, headers and paths are generated — structurally broken,
 * almost-valid and valid — and every answer must be 2xx or a 4xx in the error shape.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { governmentCatalogue } from "../../../schemas/index.ts";
import { createProducerApp } from "./app.ts";
import { MemoryPublisher } from "./brokers/memory-publisher.ts";
import { bearer, mintKey, structuredEvent, testEnv } from "./producer-test-harness.ts";

const key = await mintKey({ rate_limit: { requests: 1_000_000, window_seconds: 60 } });
const env = testEnv([key]);
const app = createProducerApp({
  capabilities: () => ({ queues: new MemoryPublisher(), kafka: new MemoryPublisher() }),
});

const contentTypes = fc.constantFrom(
  "application/cloudevents+json",
  "application/cloudevents+json; charset=utf-8",
  "application/cloudevents-batch+json",
  "application/json",
  "application/json; charset=latin1",
  "text/plain",
  "multipart/form-data; boundary=x",
  "",
);

/** A valid event with one attribute replaced by an arbitrary JSON value, or removed. */
const mangledEvent = fc
  .tuple(
    fc.constantFrom(...governmentCatalogue.types()),
    fc.constantFrom(
      "specversion",
      "id",
      "source",
      "type",
      "time",
      "data",
      "eventversion",
      "traceparent",
      "partitionkey",
      "extra",
    ),
    fc.option(fc.jsonValue(), { nil: undefined }),
  )
  .map(([type, field, value]) => {
    const event: Record<string, unknown> = structuredEvent(type);
    if (value === undefined) delete event[field];
    else event[field] = value;
    return JSON.stringify(event);
  });

const bodies = fc.oneof(
  fc.string(),
  fc.json(),
  mangledEvent,
  fc.array(mangledEvent, { maxLength: 5 }).map((items) => `[${items.join(",")}]`),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => new TextDecoder("latin1").decode(bytes)),
);

const ceHeaders = fc.dictionary(
  fc.constantFrom("ce-id", "ce-source", "ce-type", "ce-specversion", "ce-eventversion", "ce-traceparent", "ce-time"),
  fc.oneof(
    fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
    fc.constantFrom("1.0", "%E0%A4%A", "gov.auth.citizen.created", "/s"),
  ),
  { maxKeys: 7 },
);

describe("no 5xx for any client input", () => {
  it("POST /v1/events and /v1/events/batch answer 2xx or 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/v1/events", "/v1/events/batch"),
        contentTypes,
        bodies,
        ceHeaders,
        async (path, contentType, body, headers) => {
          const response = await app.request(
            path,
            {
              method: "POST",
              body,
              headers: { ...headers, ...(contentType ? { "Content-Type": contentType } : {}), ...bearer(key) },
            },
            env,
          );
          const text = await response.text();
          expect(response.status, `${response.status} ${text}`).toBeLessThan(500);
          if (response.status >= 400) expect(JSON.parse(text).error.code).toEqual(expect.any(String));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("any path and method answers 2xx, 404 or 405 in the error shape", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
        fc.oneof(
          fc.webPath(),
          fc.constantFrom("/v1/schemas/%ZZ", "/v1/schemas/gov.auth.citizen.created", "/v1/events"),
        ),
        async (method, path) => {
          const response = await app.request(path.startsWith("/") ? path : `/${path}`, { method }, env);
          expect(response.status, `${method} ${path}`).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
  });
});
