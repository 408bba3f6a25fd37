/**
 * What `GET /readyz` asks the producer's dependencies: Redis (dedup and rate limits) answers
 * `PING` through the Upstash Redis REST protocol within `REDIS_TIMEOUT_MS`, and the Kafka REST
 * endpoint lists its topics (`GET /topics`, a metadata request the bridge answers from Kafka)
 * within `KAFKA_PROBE_TIMEOUT_MS`. A dependency that is not configured is not probed. The
 * answer is kept for `READINESS_CACHE_MS` per isolate and configuration, so a load balancer
 * polling every second costs Redis and Kafka one request each per few seconds per isolate.
 *
 * Failure reasons name what happened (a timeout, an HTTP status, an unreachable endpoint),
 * never a URL, a credential or a driver's message.
 */
import type { ProducerConfig } from "./env.ts";

/** Deadline of the Kafka REST probe. The Redis probe uses `REDIS_TIMEOUT_MS` like every Redis call. */
export const KAFKA_PROBE_TIMEOUT_MS = 3000;
/** How long one answer serves later `/readyz` requests of the same isolate. */
export const READINESS_CACHE_MS = 5000;

export type ProbeResult =
  | { readonly status: "ok" | "not_configured" }
  | { readonly status: "unavailable"; readonly reason: string };

export interface ReadinessReport {
  readonly redis: ProbeResult;
  readonly kafka: ProbeResult;
}

type Fetch = typeof fetch;

/** `fetch` with a deadline; the failure reason of anything but an answer. */
async function probe(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  fetchImpl: Fetch,
): Promise<{ response: Response } | { reason: string }> {
  try {
    const response = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    return { response };
  } catch (thrown) {
    const name = thrown instanceof Error ? thrown.name : "";
    return {
      reason: name === "TimeoutError" || name === "AbortError" ? `no answer within ${timeoutMs} ms` : "unreachable",
    };
  }
}

/** `PING` through the Upstash Redis REST protocol: `POST <url>` `["ping"]` → `{"result":"PONG"}`. */
export async function probeRedis(
  redis: { url: string; token: string },
  timeoutMs: number,
  fetchImpl: Fetch = fetch,
): Promise<ProbeResult> {
  const answered = await probe(
    redis.url,
    {
      method: "POST",
      headers: { authorization: `Bearer ${redis.token}`, "content-type": "application/json" },
      body: JSON.stringify(["ping"]),
    },
    timeoutMs,
    fetchImpl,
  );
  if ("reason" in answered) return { status: "unavailable", reason: answered.reason };
  const { response } = answered;
  const body = (await response.json().catch(() => undefined)) as { result?: unknown } | undefined;
  if (!response.ok) return { status: "unavailable", reason: `answered HTTP ${response.status}` };
  return body?.result === "PONG" ? { status: "ok" } : { status: "unavailable", reason: "PING was not answered PONG" };
}

/** The topic list of the Upstash Kafka REST protocol: `GET <url>/topics` (Basic auth) → 200 with a JSON object. */
export async function probeKafka(
  kafka: { url: string; username: string; password: string },
  timeoutMs: number,
  fetchImpl: Fetch = fetch,
): Promise<ProbeResult> {
  const answered = await probe(
    `${kafka.url.replace(/\/+$/, "")}/topics`,
    { headers: { authorization: `Basic ${btoa(`${kafka.username}:${kafka.password}`)}` } },
    timeoutMs,
    fetchImpl,
  );
  if ("reason" in answered) return { status: "unavailable", reason: answered.reason };
  const { response } = answered;
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) return { status: "unavailable", reason: `answered HTTP ${response.status}` };
  return typeof body === "object" && body !== null && !Array.isArray(body)
    ? { status: "ok" }
    : { status: "unavailable", reason: "the topic list is not a JSON object" };
}

/** Both probes at once; an unconfigured dependency is `not_configured`. */
export async function probeDependencies(config: ProducerConfig, fetchImpl: Fetch = fetch): Promise<ReadinessReport> {
  const [redis, kafka] = await Promise.all([
    config.redis === null
      ? ({ status: "not_configured" } as const)
      : probeRedis(config.redis, config.redisTimeoutMs, fetchImpl),
    config.kafka === null
      ? ({ status: "not_configured" } as const)
      : probeKafka(config.kafka, KAFKA_PROBE_TIMEOUT_MS, fetchImpl),
  ]);
  return { redis, kafka };
}

/** Answers kept per configuration (one per isolate and env), with when they were asked for. */
const cached = new WeakMap<ProducerConfig, { at: number; report: Promise<ReadinessReport> }>();

/**
 * The report for `config`, probed at most once per `READINESS_CACHE_MS`: requests that arrive
 * meanwhile, or while a probe runs, share its answer.
 */
export function readiness(
  config: ProducerConfig,
  now = Date.now(),
  fetchImpl: Fetch = fetch,
): Promise<ReadinessReport> {
  const entry = cached.get(config);
  if (entry !== undefined && now - entry.at < READINESS_CACHE_MS) return entry.report;
  const report = probeDependencies(config, fetchImpl);
  cached.set(config, { at: now, report });
  return report;
}
