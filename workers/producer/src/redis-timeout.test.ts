/**
 * Every Redis call of the producer has a deadline (`REDIS_TIMEOUT_MS`). Against a TCP server that
 * accepts and never answers, a publish fails closed within the deadline: 503, retryable, nothing
 * published (dedup cannot record the event, so it is not sent). Whether the rate limiter lets
 * traffic through when Redis fails is `RATE_LIMIT_ON_REDIS_FAILURE`: closed answers 503 at once,
 * open goes on to dedup (which then fails closed on its own).
 */
import { describe, expect, inject, it } from "vitest";
import { createProducerApp } from "./app.ts";
import { MemoryPublisher } from "./brokers/memory-publisher.ts";
import {
  bearer,
  CE_BATCH,
  CE_JSON,
  mintKey,
  type ResponseJson,
  structuredEvent,
  testEnv,
} from "./producer-test-harness.ts";

const key = await mintKey();
const blackHole = inject("blackHoleUrl");

function producer(extra: Record<string, unknown>) {
  const queues = new MemoryPublisher();
  const app = createProducerApp({ capabilities: () => ({ queues, kafka: null }) });
  const env = testEnv([key], {
    UPSTASH_REDIS_REST_URL: `${blackHole}/redis`,
    UPSTASH_REDIS_REST_TOKEN: "black-hole-token",
    REDIS_TIMEOUT_MS: "300",
    ...extra,
  });
  const timed = async (path: string, body: string, headers: Record<string, string>) => {
    const started = Date.now();
    const response = await app.request(path, { method: "POST", body, headers: { ...headers, ...bearer(key) } }, env);
    return {
      status: response.status,
      headers: response.headers,
      json: (await response.json()) as ResponseJson,
      ms: Date.now() - started,
    };
  };
  const published = () => queues.destinations().flatMap((queue) => queues.messages(queue));
  return { timed, published };
}

describe("a Redis that accepts and never answers", { timeout: 15_000 }, () => {
  it.each(["production", "development"])(
    "rate limits fail closed (ENVIRONMENT=%s, RATE_LIMIT_ON_REDIS_FAILURE=closed): 503 within the deadline",
    async (environment) => {
      const { timed, published } = producer({ ENVIRONMENT: environment, RATE_LIMIT_ON_REDIS_FAILURE: "closed" });
      const answer = await timed("/v1/events", JSON.stringify(structuredEvent()), CE_JSON);
      expect(answer.status, JSON.stringify(answer.json)).toBe(503);
      expect(answer.json.error.code).toBe("upstream_unavailable");
      expect(answer.json.error.message).toMatch(/rate limit/);
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(answer.ms).toBeLessThan(2_000);
      expect(published()).toEqual([]);
    },
  );

  it("rate limits fail open when told to; dedup then fails closed: 503, nothing published", async () => {
    const { timed, published } = producer({ ENVIRONMENT: "production", RATE_LIMIT_ON_REDIS_FAILURE: "open" });
    const answer = await timed("/v1/events", JSON.stringify(structuredEvent()), CE_JSON);
    expect(answer.status, JSON.stringify(answer.json)).toBe(503);
    expect(answer.json.error.code).toBe("upstream_unavailable");
    expect(answer.json.error.message).toMatch(/dedup/);
    // The limiter's deadline, then dedup's: each REDIS_TIMEOUT_MS, never an open-ended wait.
    expect(answer.ms).toBeLessThan(3_000);
    expect(published()).toEqual([]);
  });

  it("a batch fails closed per event, within the deadline, publishing nothing", async () => {
    const { timed, published } = producer({ ENVIRONMENT: "production", RATE_LIMIT_ON_REDIS_FAILURE: "open" });
    const answer = await timed("/v1/events/batch", JSON.stringify([structuredEvent(), structuredEvent()]), CE_BATCH);
    expect(answer.status).toBe(200);
    expect(answer.json.results.map((r: { status: number }) => r.status)).toEqual([503, 503]);
    expect(answer.json.results[0].error).toMatchObject({ code: "upstream_unavailable" });
    expect(answer.ms).toBeLessThan(3_000);
    expect(published()).toEqual([]);
  });
});
