import { describe, expect, inject, it } from "vitest";
import { createProducerApp } from "./app.ts";
import { MemoryPublisher } from "./brokers/memory-publisher.ts";
import { bearer, CE_BATCH, CE_JSON, mintKey, structuredEvent, testEnv } from "./producer-test-harness.ts";

const redisUrl = inject("redisRestUrl");
const backends = [
  { name: "isolate memory", extra: {} },
  ...(redisUrl === ""
    ? []
    : [
        {
          name: "Redis via the REST gateway (one script with the dedup begin)",
          extra: { UPSTASH_REDIS_REST_URL: redisUrl, UPSTASH_REDIS_REST_TOKEN: inject("redisRestToken") },
        },
      ]),
];

describe.each(backends)("rate limit per key on $name", ({ extra }) => {
  it("answers 429 with Retry-After once the key's allowance is used", async () => {
    const limited = await mintKey({ rate_limit: { requests: 3, window_seconds: 60 } });
    const other = await mintKey();
    const app = createProducerApp({ capabilities: () => ({ queues: new MemoryPublisher(), kafka: null }) });
    const env = testEnv([limited, other], extra);
    const send = (key = limited) =>
      app.request(
        "/v1/events",
        { method: "POST", body: JSON.stringify(structuredEvent()), headers: { ...CE_JSON, ...bearer(key) } },
        env,
      );
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(202);
    const refused = await send();
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // Until the window ends, plus the time one event's share of it takes to fade (60 s × 1/3).
    expect(retryAfter).toBeGreaterThanOrEqual(20);
    expect(retryAfter).toBeLessThanOrEqual(60 + 20);
    expect(await refused.json()).toMatchObject({
      error: { code: "rate_limited", details: { limit: 3, window_seconds: 60 } },
    });
    // Another key is unaffected.
    expect((await send(other)).status).toBe(202);
  });

  it("charges a batch per event and refuses a batch larger than what is left", async () => {
    const limited = await mintKey({ rate_limit: { requests: 5, window_seconds: 60 } });
    const app = createProducerApp({ capabilities: () => ({ queues: new MemoryPublisher(), kafka: null }) });
    const env = testEnv([limited], extra);
    const batch = (n: number) =>
      app.request(
        "/v1/events/batch",
        {
          method: "POST",
          body: JSON.stringify(Array.from({ length: n }, () => structuredEvent())),
          headers: { ...CE_BATCH, ...bearer(limited) },
        },
        env,
      );
    expect((await batch(4)).status).toBe(200);
    expect((await batch(2)).status).toBe(429);
    expect((await batch(1)).status).toBe(200);
  });
});
