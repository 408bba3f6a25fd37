import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import app from "./index.ts";

describe("producer", () => {
  it("answers /healthz", async () => {
    const res = await app.request("/healthz", {}, env);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});
