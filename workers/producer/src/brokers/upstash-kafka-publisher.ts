import { Kafka } from "@upstash/kafka";
import { z } from "zod";
import { EdgebusError } from "#shared/errors.ts";
import { chunkBySize, publisherClosedError, utf8Bytes } from "./publish-guard.ts";
import type { OutgoingMessage, Publisher, PublishReceipt } from "./publisher.ts";

export interface UpstashKafkaPublisherOptions {
  /** Base URL of an Upstash Kafka REST endpoint, e.g. `http://127.0.0.1:8788/kafka`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /**
   * Extra attempts the `@upstash/kafka` client makes after a failure (any failure, 4xx included,
   * sleeping 0.5 s, 1 s, 2 s… between them). Its default of 5 keeps a caller waiting 15.5 s before
   * an error surfaces; 1 (one retry after 0.5 s) rides out a dropped connection and still answers
   * well inside an HTTP request. A retry can duplicate a record, which at-least-once allows.
   */
  readonly retries?: number;
  /** Upper bound for one produce request including the client's retries. */
  readonly timeoutMs?: number;
  /** Largest produce request body (the records' JSON); bigger batches are split. */
  readonly maxRequestBytes?: number;
  /** Largest single record (Kafka's default `message.max.bytes` is about 1 MB). */
  readonly maxMessageBytes?: number;
  readonly maxRequestMessages?: number;
}

export const UPSTASH_KAFKA_DEFAULTS = {
  retries: 1,
  timeoutMs: 10_000,
  maxRequestBytes: 1_048_576,
  maxMessageBytes: 1_000_000,
  maxRequestMessages: 500,
} as const;

/** One record of `POST /produce` as `@upstash/kafka` sends it. */
interface ProduceRecord {
  topic: string;
  value: string;
  key?: string;
  headers?: { key: string; value: string }[];
}

/** Receipts of `POST /produce`: one per record, in request order. */
const produceResponseSchema = z.array(
  z.object({ topic: z.string().optional(), partition: z.number().int(), offset: z.number() }),
);

/** The shape of the client's internal HTTP transport, which is where `retries` is set per request. */
interface ProducerTransport {
  post<T>(request: { path: string[]; body?: unknown; retries?: number }): Promise<T>;
}

interface UpstashProducer {
  produceMany(requests: ProduceRecord[]): Promise<unknown>;
}

/**
 * Publishes Kafka records through the Upstash Kafka REST protocol with the unmodified
 * `@upstash/kafka` client (`produceMany` → `POST /produce`): `destination` is the topic, `key`
 * the record key, `headers` become `[{key, value}]`. Receipts carry the partition and offset
 * the server reports, in input order.
 *
 * Batches larger than the request limits are split into consecutive requests; a failure rejects
 * the call (earlier requests may have been written — retry, consumers dedupe). Errors:
 * throttling, 5xx, timeouts and network failures → `upstream_unavailable` (retryable); rejected
 * credentials or an unknown topic → `upstream_unavailable` (not retryable: a retry cannot help
 * until someone fixes the configuration); records over the size limit → `payload_too_large`.
 */
export class UpstashKafkaPublisher implements Publisher {
  readonly #producer: UpstashProducer;
  readonly #options: Required<Omit<UpstashKafkaPublisherOptions, "url" | "username" | "password">>;
  #closed = false;

  constructor(options: UpstashKafkaPublisherOptions) {
    this.#options = {
      retries: options.retries ?? UPSTASH_KAFKA_DEFAULTS.retries,
      timeoutMs: options.timeoutMs ?? UPSTASH_KAFKA_DEFAULTS.timeoutMs,
      maxRequestBytes: options.maxRequestBytes ?? UPSTASH_KAFKA_DEFAULTS.maxRequestBytes,
      maxMessageBytes: options.maxMessageBytes ?? UPSTASH_KAFKA_DEFAULTS.maxMessageBytes,
      maxRequestMessages: options.maxRequestMessages ?? UPSTASH_KAFKA_DEFAULTS.maxRequestMessages,
    };
    const kafka = new Kafka({ url: options.url, username: options.username, password: options.password });
    this.#producer = withRetries(kafka.producer(), this.#options.retries);
  }

  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<PublishReceipt[]> {
    if (this.#closed) throw publisherClosedError("upstash-kafka");
    if (messages.length === 0) return [];
    const records = messages.map((message) => this.#toRecord(topic, message));
    // The body is `[r1,r2,…]`: each record costs its JSON plus a comma, the array two brackets.
    const chunks = chunkBySize(records, (record) => record.bytes + 1, {
      maxCount: this.#options.maxRequestMessages,
      maxBytes: this.#options.maxRequestBytes - 2,
    });
    const receipts: PublishReceipt[] = [];
    for (const chunk of chunks) {
      const response = await this.#produce(
        topic,
        chunk.map(({ record }) => record),
      );
      for (const item of response)
        receipts.push({ destination: topic, partition: item.partition, offset: item.offset });
    }
    return receipts;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #toRecord(topic: string, message: OutgoingMessage): { record: ProduceRecord; bytes: number } {
    const record: ProduceRecord = { topic, value: message.value };
    if (message.key !== undefined) record.key = message.key;
    if (message.headers) record.headers = Object.entries(message.headers).map(([key, value]) => ({ key, value }));
    const bytes = utf8Bytes(JSON.stringify(record));
    if (bytes > this.#options.maxMessageBytes) {
      throw new EdgebusError(
        "payload_too_large",
        `record ${message.id} is ${bytes} bytes; a Kafka record may be at most ${this.#options.maxMessageBytes} bytes`,
        { details: { destination: topic, id: message.id, bytes } },
      );
    }
    return { record, bytes };
  }

  async #produce(topic: string, records: ProduceRecord[]): Promise<z.infer<typeof produceResponseSchema>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new EdgebusError(
              "upstream_unavailable",
              `Kafka REST produce to ${topic} timed out after ${this.#options.timeoutMs} ms`,
              {
                retryable: true,
                details: { destination: topic },
              },
            ),
          ),
        this.#options.timeoutMs,
      );
    });
    let raw: unknown;
    try {
      const produce = this.#producer.produceMany(records);
      // After a timeout the request may still fail later; that failure was already reported.
      produce.catch(() => undefined);
      raw = await Promise.race([produce, timeout]);
    } catch (error) {
      throw mapKafkaError(topic, error);
    } finally {
      clearTimeout(timer);
    }
    const parsed = produceResponseSchema.safeParse(raw);
    if (!parsed.success || parsed.data.length !== records.length) {
      throw new EdgebusError(
        "upstream_unavailable",
        `Kafka REST produce to ${topic} answered with ${parsed.success ? parsed.data.length : "malformed"} receipts for ${records.length} records`,
        { retryable: false, details: { destination: topic } },
      );
    }
    return parsed.data;
  }
}

/**
 * `@upstash/kafka` 1.3.5 has no client-wide retry setting; its transport honours a per-request
 * `retries`. The producer reaches the transport through its `client` field, so the publisher wraps
 * that field once to pass `retries` on every produce. Checked at construction, so a client
 * upgrade that moves the field fails loudly instead of silently retrying 5 times.
 */
function withRetries(producer: object, retries: number): UpstashProducer {
  const holder = producer as { client?: ProducerTransport; produceMany?: unknown };
  const transport = holder.client;
  if (typeof transport?.post !== "function" || typeof holder.produceMany !== "function") {
    throw new EdgebusError("internal", "unsupported @upstash/kafka version: producer transport not found", {
      retryable: false,
    });
  }
  holder.client = { post: (request) => transport.post({ ...request, retries }) };
  return producer as UpstashProducer;
}

function mapKafkaError(topic: string, error: unknown): EdgebusError {
  if (error instanceof EdgebusError) return error;
  const details = { destination: topic };
  if (error instanceof Error && error.name === "UpstashError") {
    const status = (error as Error & { status?: unknown }).status;
    const code = typeof status === "number" ? status : undefined;
    if (code === 413) {
      return new EdgebusError("payload_too_large", `Kafka REST rejected the records as too large: ${error.message}`, {
        cause: error,
        details,
      });
    }
    if (code === 401 || code === 403) {
      return new EdgebusError(
        "upstream_unavailable",
        `Kafka REST rejected the credentials (${code}); check UPSTASH_KAFKA_REST_USERNAME / UPSTASH_KAFKA_REST_PASSWORD`,
        { retryable: false, cause: error, details },
      );
    }
    const retryable = code === undefined || code === 408 || code === 429 || code >= 500;
    return new EdgebusError("upstream_unavailable", `Kafka REST produce to ${topic} failed: ${error.message}`, {
      retryable,
      cause: error,
      details: { ...details, status: code },
    });
  }
  // fetch failures (TypeError) and non-JSON answers (SyntaxError, e.g. a proxy's HTML error page).
  const text = error instanceof Error ? error.message : String(error);
  return new EdgebusError("upstream_unavailable", `Kafka REST endpoint for ${topic} is unreachable: ${text}`, {
    retryable: true,
    cause: error,
    details,
  });
}
