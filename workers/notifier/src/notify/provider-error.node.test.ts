import { describe, expect, it } from "vitest";
import { providerError, retryAfterSeconds } from "./provider-error.ts";

describe("retryAfterSeconds", () => {
  const now = Date.parse("2026-06-03T10:00:00Z");
  it("reads delta-seconds and HTTP dates", () => {
    expect(retryAfterSeconds(new Headers({ "retry-after": "12" }), now)).toBe(12);
    expect(retryAfterSeconds(new Headers({ "retry-after": "Wed, 03 Jun 2026 10:01:30 GMT" }), now)).toBe(90);
    expect(retryAfterSeconds(new Headers({ "retry-after": "Wed, 03 Jun 2026 09:00:00 GMT" }), now)).toBe(0);
  });
  it("falls back to SendGrid's X-RateLimit-Reset (unix seconds)", () => {
    expect(retryAfterSeconds(new Headers({ "x-ratelimit-reset": String(now / 1000 + 45) }), now)).toBe(45);
  });
  it("caps at the queue's 24 h maximum delay and ignores garbage", () => {
    expect(retryAfterSeconds(new Headers({ "retry-after": "999999" }), now)).toBe(86_400);
    expect(retryAfterSeconds(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(retryAfterSeconds(new Headers(), now)).toBeUndefined();
  });
});

describe("providerError", () => {
  it("classifies by status", async () => {
    const error = async (status: number) => providerError("p", new Response("{}", { status }));
    for (const status of [408, 429, 500, 502, 503, 504]) expect((await error(status)).retryable).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 413, 422]) expect((await error(status)).retryable).toBe(false);
  });
  it("keeps a bounded provider body for the dead letter", async () => {
    const error = await providerError("p", new Response("x".repeat(10_000), { status: 400 }));
    expect((error.details as { body: string }).body).toHaveLength(2048);
  });
});
