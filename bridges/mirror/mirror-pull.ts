import { Kafka, type Message } from "@upstash/kafka";
import { createLogger, errorLogFields } from "#shared/log.ts";
import type { RecordToProduce } from "../kafka/record.ts";
import type { RecordProducer } from "../kafka/record-producer.ts";
import type { TopicMapping } from "./topic-mapping.ts";

const log = createLogger({ component: "mirror-pull" });

export interface MirrorPullSource {
  /** Upstash-Kafka-REST endpoint to read from (e.g. another edgebus bridge's `/kafka`). */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly topics: readonly string[];
  readonly group: string;
  readonly instance: string;
  readonly pollTimeoutMs: number;
}

export interface MirrorPullOptions {
  readonly source: MirrorPullSource;
  readonly producer: RecordProducer;
  readonly mapping: TopicMapping;
  readonly onForwarded?: (count: number) => void;
  readonly onError?: (error: unknown) => void;
  /** Wait after a failed round before trying again (ms). */
  readonly retryDelayMs?: number;
}

/**
 * The mirror in pull mode, watermill-forwarder style: source = a consumer group on an
 * Upstash-Kafka-REST endpoint (the unmodified `@upstash/kafka` client), sink = this bridge's
 * Kafka producer. Records keep topic (through the mapping), key, value, headers and timestamp.
 *
 * Guarantee: offsets are committed at the source only after the sink acknowledged every record
 * of the round (`acks=all`), so a crash or a failed write re-delivers (at-least-once, never
 * loss). After a failure the consumer instance is dropped, so the next round resumes from the
 * last committed offset instead of the instance's read position.
 */
export class MirrorPull {
  readonly #options: MirrorPullOptions;
  readonly #kafka: Kafka;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;

  constructor(options: MirrorPullOptions) {
    this.#options = options;
    this.#kafka = new Kafka({
      url: options.source.url,
      username: options.source.username,
      password: options.source.password,
    });
  }

  start(): void {
    if (this.#running) return;
    this.#stopping = false;
    this.#running = this.#loop();
  }

  /** Finishes the round in flight (its commit included), then leaves the source group. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    this.#running = undefined;
    const { group, instance } = this.#options.source;
    await this.#kafka
      .admin()
      .removeConsumerInstance(group, instance)
      .catch(() => undefined);
  }

  /** One poll → forward → commit round; returns how many records were forwarded. */
  async round(): Promise<number> {
    const { source, producer, mapping } = this.#options;
    const consumer = this.#kafka.consumer();
    const messages = await consumer.consume({
      consumerGroupId: source.group,
      instanceId: source.instance,
      topics: [...source.topics],
      autoCommit: false,
      autoOffsetReset: "earliest",
      timeout: source.pollTimeoutMs,
    });
    if (messages.length === 0) return 0;
    const records = messages.flatMap((m) => toRecord(m, mapping));
    await producer.produce(records);
    const next = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const m of messages) {
      const key = `${m.topic}\u0000${m.partition}`;
      const current = next.get(key);
      if (!current || current.offset < m.offset + 1)
        next.set(key, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
    }
    await consumer.commit({ consumerGroupId: source.group, instanceId: source.instance, offset: [...next.values()] });
    this.#options.onForwarded?.(records.length);
    return records.length;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.round();
      } catch (error) {
        this.#options.onError?.(error) ?? log.log("error", "mirror pull round failed; retrying", errorLogFields(error));
        await this.#kafka
          .admin()
          .removeConsumerInstance(this.#options.source.group, this.#options.source.instance)
          .catch(() => undefined);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#options.retryDelayMs ?? 2000);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}

function toRecord(message: Message, mapping: TopicMapping): RecordToProduce[] {
  const topic = mapping.map(message.topic);
  if (topic === null) return [];
  return [
    {
      topic,
      ...(message.key ? { key: message.key } : {}),
      value: message.value,
      headers: message.headers ?? [],
      timestamp: message.timestamp,
    },
  ];
}
