import type { BaseOptions } from "@platformatic/kafka";

/**
 * How the bridge reaches Kafka: bootstrap servers plus optional SASL and TLS. Parsed from
 * `bridges/config.ts`; every Kafka client the bridge creates (producer, admin, consumers,
 * fetcher) is built from the same value so they all authenticate the same way.
 */
export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly sasl?: {
    readonly mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
    readonly username: string;
    readonly password: string;
  };
  readonly tls?: {
    readonly ca?: string;
    readonly cert?: string;
    readonly key?: string;
    /** Off only for test clusters with self-signed certificates. */
    readonly rejectUnauthorized: boolean;
  };
  /** Per-request timeout towards Kafka (ms). */
  readonly requestTimeoutMs: number;
}

/** The options shared by every `@platformatic/kafka` client of the bridge. */
export function clientOptions(connection: KafkaConnection, role: string): BaseOptions {
  const options: BaseOptions = {
    clientId: `${connection.clientId}-${role}`,
    bootstrapBrokers: [...connection.brokers],
    timeout: connection.requestTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    connectTimeout: Math.min(connection.requestTimeoutMs, 10_000),
    retries: 3,
    retryDelay: 250,
  };
  if (connection.sasl) {
    options.sasl = {
      mechanism: connection.sasl.mechanism,
      username: connection.sasl.username,
      password: connection.sasl.password,
    };
  }
  if (connection.tls) {
    options.tls = {
      ca: connection.tls.ca,
      cert: connection.tls.cert,
      key: connection.tls.key,
      rejectUnauthorized: connection.tls.rejectUnauthorized,
    };
  }
  return options;
}
