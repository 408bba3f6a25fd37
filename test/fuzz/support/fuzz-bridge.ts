/**
 * What the producer's hostile-input suites get from their globalSetup: a real bridge (Kafka REST
 * over real Kafka, Redis REST over real Redis) and an endpoint reporting what reached them.
 */
export interface FuzzBridge {
  /** e.g. `http://127.0.0.1:41234`; `/kafka` and `/redis` under it. */
  readonly url: string;
  readonly kafkaUsername: string;
  readonly kafkaPassword: string;
  readonly redisToken: string;
  /** `GET` → {@link BackendState}. */
  readonly inspectUrl: string;
}

/** Counters that only grow when something reached a backend. */
export interface BackendState {
  /** Dedup records in the suite's Redis database (one per distinct accepted `source`+`id`). */
  readonly dedupRecords: number;
  /** Records Kafka acknowledged through the bridge's Kafka REST gateway. */
  readonly kafkaProduced: number;
}

export async function readBackendState(bridge: FuzzBridge): Promise<BackendState> {
  const response = await fetch(bridge.inspectUrl);
  if (!response.ok) throw new Error(`fuzz inspector answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as BackendState;
}

/** Producer env settings that point the Worker at the bridge. */
export function producerBackendEnv(bridge: FuzzBridge): Record<string, string> {
  return {
    UPSTASH_KAFKA_REST_URL: `${bridge.url}/kafka`,
    UPSTASH_KAFKA_REST_USERNAME: bridge.kafkaUsername,
    UPSTASH_KAFKA_REST_PASSWORD: bridge.kafkaPassword,
    UPSTASH_REDIS_REST_URL: `${bridge.url}/redis`,
    UPSTASH_REDIS_REST_TOKEN: bridge.redisToken,
  };
}
