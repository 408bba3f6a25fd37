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
 * polls. The client's stream reads ahead into a bounded buffer (paused at 1,024 messages), but
 * offsets are committed only for messages a `/consume` call returned, so "consumed" means
 * "returned to the REST caller".
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
  /**
   * Messages the stream delivered that no poll has returned yet, oldest first. The stream runs in
   * flowing mode into this buffer and is paused while it holds `BUFFER_HIGH_WATER` messages.
   */
  #buffer = new MessageBuffer();
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
      await this.#subscribe(topics);
      const records = await this.#buffer.take({ timeoutMs, maxRecords, maxBytes }, () => this.#streamError);
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
    // Buffered messages were never returned: the group redelivers them from the committed offset.
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
        this.#buffer.wake();
      });
      // Flowing mode into our own buffer, paused and resumed by it: the stream's fetch loop is
      // built for that (its resume() restarts the loop). Reading it with read() and transient
      // 'readable' listeners instead stopped its loop for good whenever a fetch ended while no
      // listener was attached — under steady production every consume then answered [].
      this.#buffer = new MessageBuffer(stream);
      stream.on("data", (message: KafkaMessage) => this.#buffer.add(message));
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
    this.#buffer.clear();
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

/** Messages held for the next polls before the stream is paused. */
const BUFFER_HIGH_WATER = 1024;

/**
 * The messages a consumer instance's stream delivered and no poll returned yet. Pauses the stream
 * at `BUFFER_HIGH_WATER` messages and resumes it once a poll has taken them below half of that,
 * so memory stays bounded whatever the topic's rate.
 */
class MessageBuffer {
  readonly #stream: Pick<MessagesStream<Bytes, Bytes, Bytes, Bytes>, "pause" | "resume" | "isPaused"> | undefined;
  #messages: KafkaMessage[] = [];
  #waiter: (() => void) | undefined;

  constructor(stream?: MessagesStream<Bytes, Bytes, Bytes, Bytes>) {
    this.#stream = stream;
  }

  add(message: KafkaMessage): void {
    this.#messages.push(message);
    if (this.#messages.length >= BUFFER_HIGH_WATER && !this.#stream?.isPaused()) this.#stream?.pause();
    this.wake();
  }

  /** Ends a wait early (a message arrived, or the stream failed). */
  wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  clear(): void {
    this.#messages = [];
    this.wake();
  }

  /**
   * Up to `maxRecords` messages of at most `maxBytes` together (a message that does not fit stays
   * first in line; the first one is always taken); when none is there, waits up to `timeoutMs`.
   */
  async take(
    limits: { timeoutMs: number; maxRecords: number; maxBytes: number },
    failure: () => Error | undefined,
  ): Promise<KafkaMessage[]> {
    const deadline = Date.now() + limits.timeoutMs;
    while (this.#messages.length === 0 && Date.now() < deadline) {
      const error = failure();
      if (error) throw consumeFailure(error);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            if (this.#waiter === done) this.#waiter = undefined;
            resolve();
          },
          Math.max(0, deadline - Date.now()),
        );
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        this.#waiter = done;
      });
    }
    let count = 0;
    let bytes = 0;
    while (count < this.#messages.length && count < limits.maxRecords) {
      const size = messageBytes(this.#messages[count] as KafkaMessage);
      if (count > 0 && bytes + size > limits.maxBytes) break;
      bytes += size;
      count += 1;
    }
    const taken = this.#messages.splice(0, count);
    if (this.#messages.length < BUFFER_HIGH_WATER / 2 && this.#stream?.isPaused()) this.#stream.resume();
    return taken;
  }
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
