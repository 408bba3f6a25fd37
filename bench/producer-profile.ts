/**
 * Where the producer's own CPU goes: the producer app (`createProducerApp`, the code the Worker
 * runs) driven in this Node process under the V8 profiler, with the same requests as the workerd
 * rounds of `producer.ts`. Dedup and rate limits in memory, Kafka off, and queue bindings that
 * accept every batch and keep nothing, so the profile holds the producer's work and not a
 * runtime's: workerd's HTTP, isolate and queue costs are in the throughput figures instead.
 */
import { createProducerApp } from "../workers/producer/src/app.ts";
import { type ProfileSummary, profileCpu } from "./lib/cpu-profile.ts";

const QUEUE_BINDINGS = [
  "Q_PERMITS_CITIZEN_SYNC",
  "Q_REVENUE_CITIZEN_SYNC",
  "Q_NOTIFICATIONS",
  "Q_KAFKA_MIRROR",
  "Q_ARCHIVE",
  "Q_WEBHOOKS",
] as const;

export interface ProfiledRequest {
  readonly path: string;
  readonly body: string;
  readonly contentType: string;
}

/** Profiles `requests` requests made by `next()` against the producer app; every one must succeed. */
export async function profileProducer(
  apiKeys: string,
  apiKey: string,
  requests: number,
  next: () => ProfiledRequest,
): Promise<ProfileSummary> {
  // Accepts and drops: the sends' own cost is workerd's, measured by the throughput rounds.
  const discard = { send: async () => {}, sendBatch: async () => {} };
  const env: Record<string, unknown> = { EDGEBUS_API_KEYS: apiKeys, ENVIRONMENT: "development" };
  for (const binding of QUEUE_BINDINGS) env[binding] = discard;
  const app = createProducerApp();
  const send = async () => {
    const request = next();
    const response = await app.request(
      request.path,
      {
        method: "POST",
        body: request.body,
        headers: { authorization: `Bearer ${apiKey}`, "content-type": request.contentType },
      },
      env,
    );
    const text = await response.text();
    if (response.status >= 300) throw new Error(`producer answered ${response.status}: ${text.slice(0, 200)}`);
  };
  // Warm-up outside the profile: module loading and V8's optimisation are not the hot path.
  for (let i = 0; i < Math.min(50, requests); i++) await send();
  return profileCpu(async () => {
    for (let i = 0; i < requests; i++) await send();
  });
}
