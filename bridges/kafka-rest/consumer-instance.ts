import { Consumer, type Message, type MessagesStream } from "@platformatic/kafka";
import { EdgebusError } from "#shared/errors.ts";
import { clientOptions, type KafkaConnection } from "../kafka/connection.ts";
import { kafkaUnavailable } from "../kafka/kafka-errors.ts";
import type { ConsumedRecord } from "../kafka/record.ts";
import { decodeRecord } from "../kafka/record-decoding.ts";

type Bytes = Buffer;
type KafkaMessage = Message<Bytes, Bytes, Bytes, Bytes>;

/** Settings fixed when an instance is created (Upstash reads the `Kafka-*` headers only then). */
export interface ConsumerInstanceSettings {
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  /** Where to start when the group has no committed offset; `none` fails the consume. */
  readonly offsetReset: "earliest" | "latest" | "none";
  readonly sessionTimeoutMs: number;
}

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * One Upstash consumer instance: a member of Kafka consumer group `group`, read through REST
 * polls. Messages are pulled from the client's stream only when a `/consume` call asks for them,
 * so "consumed" means "returned to the REST caller".
 *
 * Guarantees: polls on one instance run one at a time; auto-commit (when on) commits the offset
 * after the last returned message of each partition every interval and on close; `commit()`
 * without offsets does the same now; explicit offsets are committed exactly as given.
 */
export class ConsumerInstance {
  readonly group: string;
  readonly name: string;
  readonly settings: ConsumerInstanceSettings;
  readonly #connection: KafkaConnection;
  #consumer: Consumer<Bytes, Bytes, Bytes, Bytes> | undefined;
  #stream: MessagesStream<Bytes, Bytes, Bytes, Bytes> | undefined;
  #streamError: Error | undefined;
  #topics: string[] = [];
  /** Next offset to commit per `topic\0partition` (last returned + 1), not yet committed. */
  readonly #pending = new Map<string, TopicPartitionOffset>();
  #autoCommitTimer: NodeJS.Timeout | undefined;
  /** A message taken from the stream that did not fit the previous answer: the next poll starts with it. */
  #carried: KafkaMessage | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  lastUsedAt = Date.now();

  constructor(connection: KafkaConnection, group: string, name: string, settings: ConsumerInstanceSettings) {
    this.#connection = connection;
    this.group = group;
    this.name = name;
    this.settings = settings;
  }

  /**
   * Returns up to `maxRecords` records of at most `maxBytes` together (at least one record when
   * any is ready), waiting up to `timeoutMs` when none is ready.
   */
  poll(
    topics: readonly string[],
    timeoutMs: number,
    maxRecords: number,
    maxBytes: number = Number.POSITIVE_INFINITY,
  ): Promise<ConsumedRecord[]> {
    return this.#serial(async () => {
      this.lastUsedAt = Date.now();
      const stream = await this.#subscribe(topics);
      const carry = {
        take: () => {
          const message = this.#carried;
          this.#carried = undefined;
          return message;
        },
        keep: (message: KafkaMessage) => {
          this.#carried = message;
        },
      };
      const records = await readAvailable(stream, { timeoutMs, maxRecords, maxBytes }, carry, () => this.#streamError);
      for (const message of records) {
        this.#pending.set(`${message.topic}\u0000${message.partition}`, {
          topic: message.topic,
          partition: message.partition,
          offset: Number(message.offset) + 1,
        });
      }
      this.lastUsedAt = Date.now();
      return records.map((m) => decodeRecord(m.topic, m.partition, m.offset, m.timestamp, m));
    });
  }

  /** Commits `offsets` exactly as given, or (no argument) the position after the last returned message. */
  commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    return this.#serial(async () => {
      this.lastUsedAt = Date.now();
      if (offsets === undefined) {
        await this.#commitPending();
        return;
      }
      await this.#commitOffsets(offsets);
    });
  }

  /** The partitions Kafka currently assigns to this member. */
  assignments(): { topic: string; partitions: number[] }[] {
    return (this.#consumer?.assignments ?? []).map((a) => ({ topic: a.topic, partitions: [...a.partitions] }));
  }

  get subscribedTopics(): readonly string[] {
    return this.#topics;
  }

  /** Commits pending offsets when auto-commit is on, then leaves the group. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    await this.#teardown();
  }

  async #subscribe(topics: readonly string[]): Promise<MessagesStream<Bytes, Bytes, Bytes, Bytes>> {
    if (this.#closed) throw new EdgebusError("not_found", `consumer instance ${this.group}/${this.name} is closed`);
    const wanted = [...new Set(topics)].sort();
    const same = wanted.length === this.#topics.length && wanted.every((t, i) => t === this.#topics[i]);
    if (this.#stream && same && !this.#streamError) return this.#stream;
    // A new topic list (or a broken stream) means a new subscription: settle what was read so far.
    // A carried message was never returned: the group redelivers it from the committed offset.
    this.#carried = undefined;
    await this.#teardown();
    this.#streamError = undefined;
    const consumer = new Consumer<Bytes, Bytes, Bytes, Bytes>({
      ...clientOptions(this.#connection, `consumer-${this.group}-${this.name}`),
      groupId: this.group,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(this.settings.sessionTimeoutMs / 3)),
      rebalanceTimeout: this.settings.sessionTimeoutMs,
    });
    this.#consumer = consumer;
    try {
      const stream = await consumer.consume({
        topics: wanted,
        mode: "committed",
        fallbackMode: this.settings.offsetReset === "none" ? "fail" : this.settings.offsetReset,
        autocommit: false,
        maxWaitTime: 500,
        highWaterMark: 1024,
      });
      stream.on("error", (error: Error) => {
        this.#streamError = error;
      });
      this.#stream = stream;
      this.#topics = wanted;
    } catch (error) {
      this.#consumer = undefined;
      await consumer.close(true).catch(() => undefined);
      throw kafkaUnavailable(`joining consumer group ${this.group} failed`, error);
    }
    if (this.settings.autoCommit && !this.#autoCommitTimer) {
      this.#autoCommitTimer = setInterval(() => {
        void this.#serial(() => this.#commitPending()).catch(() => undefined);
      }, this.settings.autoCommitIntervalMs);
      this.#autoCommitTimer.unref();
    }
    return this.#stream as MessagesStream<Bytes, Bytes, Bytes, Bytes>;
  }

  async #commitPending(): Promise<void> {
    if (this.#pending.size === 0) return;
    const offsets = [...this.#pending.values()];
    await this.#commitOffsets(offsets);
    for (const committed of offsets) {
      const key = `${committed.topic}\u0000${committed.partition}`;
      if (this.#pending.get(key) === committed) this.#pending.delete(key);
    }
  }

  async #commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const consumer = this.#consumer;
    if (!consumer) {
      throw new EdgebusError("conflict", `consumer instance ${this.group}/${this.name} has not consumed yet`);
    }
    try {
      await consumer.commit({
        offsets: offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: BigInt(o.offset),
          leaderEpoch: -1,
        })),
      });
    } catch (error) {
      throw kafkaUnavailable(`committing offsets for group ${this.group} failed`, error);
    }
  }

  async #teardown(): Promise<void> {
    if (this.#autoCommitTimer) clearInterval(this.#autoCommitTimer);
    this.#autoCommitTimer = undefined;
    if (this.settings.autoCommit) await this.#commitPending().catch(() => undefined);
    this.#pending.clear();
    const stream = this.#stream;
    const consumer = this.#consumer;
    this.#stream = undefined;
    this.#consumer = undefined;
    this.#topics = [];
    if (stream) await stream.close().catch(() => undefined);
    if (consumer) await consumer.close(true).catch(() => undefined);
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/**
 * Takes what the stream has buffered, within `maxRecords` and `maxBytes` (a message that does not
 * fit is kept for the next poll); if nothing, waits for data until `timeoutMs`.
 */
async function readAvailable(
  stream: MessagesStream<Bytes, Bytes, Bytes, Bytes>,
  limits: { timeoutMs: number; maxRecords: number; maxBytes: number },
  carry: { take(): KafkaMessage | undefined; keep(message: KafkaMessage): void },
  failure: () => Error | undefined,
): Promise<KafkaMessage[]> {
  const { timeoutMs, maxRecords, maxBytes } = limits;
  const take = (): KafkaMessage[] => {
    const taken: KafkaMessage[] = [];
    let bytes = 0;
    while (taken.length < maxRecords) {
      const message = carry.take() ?? (stream.read() as KafkaMessage | null);
      if (message === null || message === undefined) break;
      const size = messageBytes(message);
      if (taken.length > 0 && bytes + size > maxBytes) {
        carry.keep(message);
        break;
      }
      bytes += size;
      taken.push(message);
    }
    return taken;
  };
  let records = take();
  if (records.length > 0) return records;
  const deadline = Date.now() + timeoutMs;
  while (records.length === 0 && Date.now() < deadline) {
    const error = failure();
    if (error) throw consumeFailure(error);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stream.off("readable", done);
        stream.off("error", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      stream.once("readable", done);
      stream.once("error", done);
    });
    records = take();
  }
  return records;
}

/** Bytes of a message in an answer: key, value and headers. */
function messageBytes(message: KafkaMessage): number {
  let bytes = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [key, value] of message.headers ?? []) bytes += (key?.length ?? 0) + (value?.length ?? 0);
  return bytes;
}

/**
 * With `Kafka-Auto-Offset-Reset: none` a group without a committed offset cannot start: that is
 * the caller's choice (409), not Kafka being down (503).
 */
function consumeFailure(error: Error): EdgebusError {
  if (/has no committed offset/.test(error.message)) {
    return new EdgebusError(
      "conflict",
      `${error.message} Kafka-Auto-Offset-Reset is none: commit an offset first or use earliest/latest`,
    );
  }
  return kafkaUnavailable("consuming failed", error);
}
