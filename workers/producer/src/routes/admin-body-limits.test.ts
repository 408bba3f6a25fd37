/**
 * Admin request bodies are read like event bodies: a size cap while streaming (413 before the
 * whole body is buffered), a nesting limit before parsing (400 malformed_json), and text
 * Postgres cannot store refused (400 naming the field) in bodies and query parameters alike,
 * before anything reaches the database: U+0000 (the schemas refused it already) and unpaired
 * surrogates, which Postgres would have stored as U+FFFD.
 */
import { describe, expect, it } from "vitest";
import { createProducerApp } from "../app.ts";
import { bearer, mintKey, type ResponseJson, testEnv } from "../producer-test-harness.ts";
import { ADMIN_BODY_LIMITS } from "./admin-access.ts";

const admin = await mintKey({ admin: true, sources: [], types: [] });
const env = testEnv([admin]);
const app = createProducerApp();

async function send(method: string, path: string, body: BodyInit | undefined, extra: RequestInit = {}) {
  const response = await app.request(
    path,
    { method, body, headers: { "Content-Type": "application/json", ...bearer(admin) }, ...extra },
    env,
  );
  return { status: response.status, json: (await response.json()) as ResponseJson };
}

/** A replay body that would be a harmless dry run, padded with an unknown field to `bytes`. */
function paddedReplay(bytes: number): string {
  const body = JSON.stringify({
    type: "gov.none.*",
    from: "2000-01-01T00:00:00Z",
    queue: "archive",
    dry_run: true,
    pad: "",
  });
  return body.replace('"pad":""', `"pad":"${"p".repeat(bytes - body.length)}"`);
}

describe("admin request bodies have size and depth limits", () => {
  it.each(["/v1/replay", "/v1/dead-letters/replay"])("%s: a body over the limit → 413", async (path) => {
    const answer = await send("POST", path, paddedReplay(ADMIN_BODY_LIMITS.maxBytes + 1));
    expect(answer.status, JSON.stringify(answer.json)).toBe(413);
    expect(answer.json.error).toMatchObject({
      code: "payload_too_large",
      details: { limit: ADMIN_BODY_LIMITS.maxBytes },
    });
  });

  it("a streamed body without Content-Length is cut off at the limit too", async () => {
    const encoded = new TextEncoder().encode(paddedReplay(4 * ADMIN_BODY_LIMITS.maxBytes));
    const stream = new ReadableStream({
      start(controller) {
        for (let at = 0; at < encoded.length; at += 4096) controller.enqueue(encoded.slice(at, at + 4096));
        controller.close();
      },
    });
    const answer = await send("POST", "/v1/replay", stream, { duplex: "half" } as RequestInit);
    expect(answer.status).toBe(413);
  });

  it.each([
    ["20 levels", `{"type":${'{"a":'.repeat(20)}1${"}".repeat(20)}}`],
    ["5,000 levels", `${"[".repeat(5_000)}${"]".repeat(5_000)}`],
  ])("nesting %s deep → 400 malformed_json, before parsing", async (_, body) => {
    const answer = await send("POST", "/v1/dead-letters/replay", body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe("malformed_json");
    expect(answer.json.error.message).toMatch(new RegExp(`deeper than ${ADMIN_BODY_LIMITS.maxDepth}`));
  });

  it("a body at the limit and within the depth is read as before", async () => {
    const answer = await send("POST", "/v1/replay", paddedReplay(ADMIN_BODY_LIMITS.maxBytes));
    // Past the reading: the unknown field is what is refused now.
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe("bad_request");
    expect(answer.json.error.message).toMatch(/pad/);
  });

  it.each<[string, string, string | undefined, string]>([
    ["a NUL in a discard reason", "DELETE /v1/dead-letters/987654321", '{"reason":"fixed\\u0000"}', "reason"],
    [
      "an unpaired surrogate in a discard reason",
      "DELETE /v1/dead-letters/987654321",
      '{"reason":"fixed\\udc00"}',
      "reason",
    ],
    [
      "an unpaired surrogate in a redrive filter",
      "POST /v1/dead-letters/replay",
      '{"consumer":"n\\ud800","dry_run":true}',
      "consumer",
    ],
    [
      "a surrogate in a replay type",
      "POST /v1/replay",
      '{"type":"gov.\\ud800","from":"2000-01-01T00:00:00Z","queue":"archive","dry_run":true}',
      "type",
    ],
    ["a NUL in a list filter", "GET /v1/dead-letters?consumer=a%00b", undefined, "consumer"],
    [
      "a NUL in a discard reason given as a query parameter",
      "DELETE /v1/dead-letters/987654321?reason=x%00",
      undefined,
      "reason",
    ],
  ])("%s → 400 naming the field, nothing sent to Postgres", async (_, request, body, field) => {
    const [method, path] = request.split(" ") as [string, string];
    const answer = await send(method, path, body);
    expect(answer.status, JSON.stringify(answer.json)).toBe(400);
    expect(answer.json.error.code).toBe("bad_request");
    expect(answer.json.error.details.problems).toContainEqual(expect.objectContaining({ field }));
  });
});
