import { describe, expect, it } from "vitest";
import { EdgebusError } from "#shared/errors.ts";
import { parseBatch, parseSingleEvent } from "./http-binding.ts";

const structured = { specversion: "1.0", id: "e-1", source: "/svc", type: "gov.auth.citizen.created", data: { a: 1 } };

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof EdgebusError) return error.code;
    throw error;
  }
  return "none";
}

describe("HTTP binding", () => {
  it("parses structured mode", () => {
    const parsed = parseSingleEvent(
      new Headers({ "content-type": "application/cloudevents+json; charset=utf-8" }),
      JSON.stringify({ ...structured, eventversion: 4 }),
    );
    expect(parsed.mode).toBe("structured");
    expect(parsed.attributes).toMatchObject({ ...structured, eventversion: 4 });
  });

  it("parses binary mode with percent-decoded header values", () => {
    const parsed = parseSingleEvent(
      new Headers({
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": "e-2",
        "ce-source": "/services/permits",
        "ce-type": "gov.auth.citizen.created",
        "ce-correlationid": "caf%C3%A9%20order%2F1",
      }),
      JSON.stringify({ a: 1 }),
    );
    expect(parsed.mode).toBe("binary");
    expect(parsed.attributes).toMatchObject({
      id: "e-2",
      source: "/services/permits",
      correlationid: "café order/1",
      data: { a: 1 },
    });
  });

  it("parses the legacy envelope", () => {
    const parsed = parseSingleEvent(
      new Headers({ "content-type": "application/json" }),
      JSON.stringify({ event_id: "L-1", event_type: "gov.auth.citizen.created", source: "identity", data: {} }),
    );
    expect(parsed.mode).toBe("legacy");
    expect(parsed.attributes).toMatchObject({ id: "L-1", source: "identity", type: "gov.auth.citizen.created" });
  });

  it.each([
    ["missing content type", {}, JSON.stringify(structured), "unsupported_media_type"],
    ["text/plain", { "content-type": "text/plain" }, "hi", "unsupported_media_type"],
    ["latin-1 charset", { "content-type": "application/json; charset=iso-8859-1" }, "{}", "unsupported_media_type"],
    [
      "batch content type on single",
      { "content-type": "application/cloudevents-batch+json" },
      "[]",
      "unsupported_media_type",
    ],
    ["malformed JSON", { "content-type": "application/cloudevents+json" }, "{", "malformed_json"],
    ["array body", { "content-type": "application/cloudevents+json" }, "[]", "invalid_envelope"],
    [
      "specversion 0.3",
      { "content-type": "application/cloudevents+json" },
      JSON.stringify({ ...structured, specversion: "0.3" }),
      "invalid_envelope",
    ],
    [
      "missing id",
      { "content-type": "application/cloudevents+json" },
      JSON.stringify({ ...structured, id: undefined }),
      "invalid_envelope",
    ],
    [
      "bad time",
      { "content-type": "application/cloudevents+json" },
      JSON.stringify({ ...structured, time: "nope" }),
      "invalid_envelope",
    ],
    [
      "bad extension name",
      { "content-type": "application/cloudevents+json" },
      JSON.stringify({ ...structured, Bad_Name: 1 }),
      "invalid_envelope",
    ],
    [
      "binary data",
      { "content-type": "application/cloudevents+json" },
      JSON.stringify({ ...structured, data: undefined, data_base64: "AA==" }),
      "invalid_envelope",
    ],
    [
      "object-valued extension",
      { "content-type": "application/cloudevents+json" },
      JSON.stringify({ ...structured, region: { name: "west" } }),
      "invalid_envelope",
    ],
    [
      "plain JSON without ce headers",
      { "content-type": "application/json" },
      JSON.stringify({ a: 1 }),
      "invalid_envelope",
    ],
    [
      "bad percent-encoding",
      {
        "content-type": "application/json",
        "ce-id": "%E0%A4%A",
        "ce-specversion": "1.0",
        "ce-source": "/s",
        "ce-type": "t.t.t",
      },
      "{}",
      "invalid_envelope",
    ],
  ])("rejects %s", (_, headers, body, code) => {
    expect(codeOf(() => parseSingleEvent(new Headers(headers as Record<string, string>), body))).toBe(code);
  });

  it("parses a batch item by item", () => {
    const items = parseBatch(
      new Headers({ "content-type": "application/cloudevents-batch+json" }),
      JSON.stringify([structured, { ...structured, id: "" }, { ...structured, id: "e-3" }]),
    );
    expect(items.map((item) => item.ok)).toEqual([true, false, true]);
    const failed = items[1];
    expect(failed?.ok === false && failed.error.code).toBe("invalid_envelope");
  });

  it("refuses batches over 100 events and empty batches", () => {
    const headers = new Headers({ "content-type": "application/cloudevents-batch+json" });
    const many = JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ ...structured, id: `e-${i}` })));
    expect(codeOf(() => parseBatch(headers, many))).toBe("payload_too_large");
    expect(codeOf(() => parseBatch(headers, "[]"))).toBe("invalid_envelope");
    expect(codeOf(() => parseBatch(headers, "{}"))).toBe("invalid_envelope");
  });
});
