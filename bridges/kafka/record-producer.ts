import { ProduceAcks, Producer } from "@platformatic/kafka";
import { EdgebusError } from "#shared/errors.ts";
import { clientOptions, type KafkaConnection } from "./connection.ts";
import { kafkaErrorCode, kafkaPartitionErrorCodes, kafkaUnavailable } from "./kafka-errors.ts";
import { murmur2 } from "./murmur2.ts";
import type { RecordReceipt, RecordToProduce } from "./record.ts";
import type { TopicAdmin } from "./topic-admin.ts";

/** Kafka protocol error codes for records over the broker's size limits. */
const MESSAGE_TOO_LARGE = 10;
const RECORD_LIST_TOO_LARGE = 18;
/** A record timestamp outside the broker's `log.message.timestamp.{before,after}.max.ms`. */
const INVALID_TIMESTAMP = 32;

/**
 * Writes records to Kafka with `acks=all` and the idempotent producer (no duplicates from the
 * client's own retries, per-partition order kept).
 *
 * Guarantees: `produce()` resolves only after every record of the call was acknowledged by all
 * in-sync replicas, with one receipt per record in input order (offset of that exact record);
 * otherwise it rejects with an `EdgebusError` and the caller must assume nothing was written.
 * Missing topics are created through `TopicAdmin` (or refused with `not_found`).
 *
 * Bounded: the records of calls admitted and not yet answered take at most `maxQueuedBytes`
 * (a call alone is always admitted); past it `produce()` rejects at once with
 * `upstream_unavailable` and `retryAfterSeconds` (503 + Retry-After for HTTP callers), so a slow
 * or absent Kafka cannot make the bridge hold an unbounded backlog.
 */
export class RecordProducer {
  readonly #producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  readonly #topics: TopicAdmin;
  readonly #maxRequestBytes: number;
  readonly #maxQueuedBytes: number;
  /** Approximate bytes of the records of every admitted call not yet answered. */
  #queuedBytes = 0;
  #roundRobin = 0;
  #closed = false;
  /** Calls waiting for the request in flight to finish; sent together next. */
  readonly #waiting: WaitingCall[] = [];
  #pumping = false;
  #requestsSent = 0;

  /**
   * @param options.maxRequestBytes records per produce request, by approximate size; below the
   * broker's `message.max.bytes` (1 MiB by default), which bounds one partition's batch.
   * @param options.maxQueuedBytes records waiting or in flight, by approximate size (64 MiB by default).
   */
  constructor(
    connection: KafkaConnection,
    topics: TopicAdmin,
    options: { maxRequestBytes?: number; maxQueuedBytes?: number } = {},
  ) {
    this.#maxRequestBytes = options.maxRequestBytes ?? 900_000;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1_048_576;
    this.#producer = new Producer({
      ...clientOptions(connection, "producer"),
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
    });
    this.#topics = topics;
  }

  /** Produce requests sent to Kafka so far (each carries the records of one or more calls). */
  get requestsSent(): number {
    return this.#requestsSent;
  }

  /** True while the queue is full: a new call (other than a first one) would be refused. */
  get saturated(): boolean {
    return this.#queuedBytes >= this.#maxQueuedBytes;
  }

  /**
   * Not an `async` function on purpose: each record is encoded (key, value and header bytes) before
   * this returns, and nothing of the call keeps `records` after that, so the caller's strings and
   * objects (a parsed request body, for the HTTP gateways) can be collected while Kafka is asked,
   * instead of surviving into the old generation with every call in flight.
   */
  produce(records: readonly RecordToProduce[]): Promise<RecordReceipt[]> {
    try {
      if (this.#closed) throw new EdgebusError("upstream_unavailable", "the Kafka producer is closed");
      if (records.length === 0) return Promise.resolve([]);
      // A full queue refuses whatever the call's size (the check below would), so the records are
      // not encoded for nothing while the bridge sheds load.
      if (this.#queuedBytes > 0 && this.saturated) throw this.#queueFull();
      const encoded = records.map(encodeRecord);
      let bytes = 0;
      for (const record of encoded) bytes += record.size;
      // Admitted before the first await, so concurrent callers see each other's bytes.
      if (this.#queuedBytes > 0 && this.#queuedBytes + bytes > this.#maxQueuedBytes) throw this.#queueFull();
      this.#queuedBytes += bytes;
      return this.#produceAdmitted(encoded).finally(() => {
        this.#queuedBytes -= bytes;
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #queueFull(): EdgebusError {
    return new EdgebusError(
      "upstream_unavailable",
      `the bridge's Kafka producer queue is full (${this.#queuedBytes} bytes waiting for Kafka); retry shortly`,
      { retryAfterSeconds: 1 },
    );
  }

  async #produceAdmitted(records: readonly EncodedRecord[]): Promise<RecordReceipt[]> {
    const partitionCounts = await this.#topics.ensure(records.map((r) => r.topic));
    // One clock reading for the whole call: the receipt then names the stored timestamp exactly,
    // and every record of a batch gets a timestamp (the client otherwise reads the clock per record).
    const now = Date.now();
    const items = records.map(
      (record): OutgoingRecord => ({
        record,
        partition: this.#partitionOf(record, partitionCounts.get(record.topic) ?? 1),
        timestamp: record.timestamp ?? now,
      }),
    );
    const receipts: RecordReceipt[] = [];
    // Sequential chunks keep per-partition order; each stays under the broker's batch size limit.
    for (const chunk of chunksOf(
      records.map((r) => r.size),
      this.#maxRequestBytes,
    )) {
      let bytes = 0;
      for (const i of chunk) bytes += (records[i] as EncodedRecord).size;
      receipts.push(
        ...(await this.#enqueue(
          chunk.map((i) => items[i] as OutgoingRecord),
          bytes,
        )),
      );
    }
    return receipts;
  }

  /**
   * The idempotent producer allows one produce request in flight per broker connection, so
   * concurrent calls sent one by one would be served at one broker round trip each. Instead,
   * calls that arrive while a request is in flight wait together and go out as the next single
   * request (in arrival order, so per-partition order is kept), each caller getting the receipts
   * of its own records.
   */
  #enqueue(items: OutgoingRecord[], bytes: number): Promise<RecordReceipt[]> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ items, bytes, resolve, reject });
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiting.length > 0) {
        // One turn of the event loop before each request: HTTP callers whose bodies were read in
        // this turn (the Kafka REST gateway, the mirror) join it. Profiled with 8 batches of 100
        // in flight, this halved the produce requests per message (HTTP callers: ~190 → ~100 per
        // 40,000 records) for microseconds of latency; Kafka's own producer lingers 5 ms.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const group = takeGroup(this.#waiting, this.#maxRequestBytes);
        try {
          const receipts = await this.#send(group.flatMap((call) => call.items));
          let start = 0;
          for (const call of group) {
            call.resolve(receipts.slice(start, start + call.items.length));
            start += call.items.length;
          }
        } catch (error) {
          if (group.length > 1 && isPermanent(error)) {
            // One caller's records made the shared request impossible (too large, a timestamp the
            // broker refuses): send each call alone so only that caller sees the refusal.
            for (const call of group) await this.#send(call.items).then(call.resolve, call.reject);
          } else {
            for (const call of group) call.reject(error);
          }
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * One produce request. Within it the records of one partition form one batch with consecutive
   * offsets from the batch's base offset, which is how each receipt names its record's offset.
   */
  async #send(items: readonly OutgoingRecord[]): Promise<RecordReceipt[]> {
    // Each record's place in its partition's batch of this request, counted per topic.
    const indexInPartition: number[] = new Array(items.length);
    const seen = new Map<string, number[]>();
    for (let i = 0; i < items.length; i++) {
      const { record, partition } = items[i] as OutgoingRecord;
      let counts = seen.get(record.topic);
      if (counts === undefined) {
        counts = [];
        seen.set(record.topic, counts);
      }
      const n = counts[partition] ?? 0;
      indexInPartition[i] = n;
      counts[partition] = n + 1;
    }
    let result: Awaited<ReturnType<Producer["send"]>>;
    this.#requestsSent += 1;
    try {
      result = await this.#producer.send({
        messages: items.map(({ record, partition, timestamp }) => ({
          topic: record.topic,
          partition,
          key: record.key,
          value: record.value,
          headers: record.headers,
          timestamp: BigInt(timestamp),
        })),
      });
    } catch (error) {
      const code = kafkaErrorCode(error);
      if (code === MESSAGE_TOO_LARGE || code === RECORD_LIST_TOO_LARGE) {
        // The same input can never succeed: the broker's message.max.bytes is the limit.
        throw new EdgebusError(
          "payload_too_large",
          "Kafka refused the records as too large (broker message.max.bytes)",
          {
            cause: error,
          },
        );
      }
      if (code === INVALID_TIMESTAMP || kafkaPartitionErrorCodes(error).includes(INVALID_TIMESTAMP)) {
        // Also permanent: the broker refuses timestamps too far from its clock, however often asked.
        throw new EdgebusError(
          "bad_request",
          "Kafka refused a record timestamp as too far from the broker's clock (log.message.timestamp.*.max.ms)",
          { cause: error },
        );
      }
      throw kafkaUnavailable("produce failed", error);
    }
    const baseOffsets = new Map<string, bigint[]>();
    for (const { topic, partition, offset } of result.offsets ?? []) {
      let bases = baseOffsets.get(topic);
      if (bases === undefined) {
        bases = [];
        baseOffsets.set(topic, bases);
      }
      bases[partition] = offset;
    }
    return items.map(({ record, partition, timestamp }, i) => {
      const base = baseOffsets.get(record.topic)?.[partition];
      if (base === undefined) throw kafkaUnavailable(`no acknowledgement for ${record.topic}/${partition}`, undefined);
      return {
        topic: record.topic,
        partition,
        offset: Number(base) + (indexInPartition[i] as number),
        timestamp,
      };
    });
  }

  #partitionOf(record: EncodedRecord, count: number): number {
    if (record.partition !== undefined) {
      if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= count) {
        throw new EdgebusError("bad_request", `topic ${record.topic} has no partition ${record.partition}`, {
          details: { topic: record.topic, partition: record.partition, partitions: count },
        });
      }
      return record.partition;
    }
    // Same hash as Kafka's Java client (murmur2 of the key bytes, sign bit masked), so keyed
    // records land where other Kafka producers would put them.
    if (record.key !== undefined && record.key.length > 0) return (murmur2(record.key) & 0x7fffffff) % count;
    this.#roundRobin = (this.#roundRobin + 1) % 1_000_000;
    return this.#roundRobin % count;
  }

  /** Waits for in-flight sends, then closes the connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#producer.close();
  }
}

/**
 * Header names as bytes, one buffer per name: the same few names (`ce_id`, `ce_type`, ...) come
 * with every record, and the Kafka client only reads the buffers it is given. Bounded, so
 * arbitrary names from gateway callers cannot grow it for ever.
 */
const headerKeys = new Map<string, Buffer>();
function headerKeyBytes(name: string): Buffer {
  const known = headerKeys.get(name);
  if (known !== undefined) return known;
  const bytes = Buffer.from(name);
  if (headerKeys.size < 1024) headerKeys.set(name, bytes);
  return bytes;
}

/**
 * A record as a produce request carries it: key, value and header names and values as bytes, made
 * once when the call is admitted (the partition hash and the request read the same key bytes).
 */
interface EncodedRecord {
  readonly topic: string;
  /** The caller's explicit partition, checked against the topic when its partitions are known. */
  readonly partition: number | undefined;
  readonly key: Buffer | undefined;
  readonly value: Buffer;
  readonly headers: Map<Buffer, Buffer>;
  readonly timestamp: number | undefined;
  /** Bytes the record takes in a request, about: what the request chunks and the queue bound count. */
  readonly size: number;
}

function encodeRecord(record: RecordToProduce): EncodedRecord {
  const key = record.key === undefined ? undefined : Buffer.from(record.key);
  const value = Buffer.from(record.value);
  const headers = new Map<Buffer, Buffer>();
  let size = 70 + (key?.length ?? 0) + value.length;
  for (const h of record.headers ?? []) {
    const name = headerKeyBytes(h.key);
    const headerValue = Buffer.from(h.value);
    // A name repeated within one record (Kafka allows it) needs its own buffer as map key.
    headers.set(headers.has(name) ? Buffer.from(h.key) : name, headerValue);
    size += name.length + headerValue.length + 4;
  }
  return {
    topic: record.topic,
    partition: record.partition,
    key,
    value,
    headers,
    timestamp: record.timestamp,
    size,
  };
}

/** A record with its partition and timestamp decided, ready for a produce request. */
interface OutgoingRecord {
  readonly record: EncodedRecord;
  readonly partition: number;
  readonly timestamp: number;
}

interface WaitingCall {
  readonly items: OutgoingRecord[];
  readonly bytes: number;
  resolve(receipts: RecordReceipt[]): void;
  reject(error: unknown): void;
}

/** Removes and returns the first waiting calls that fit in one request together (at least one). */
function takeGroup(waiting: WaitingCall[], maxBytes: number): WaitingCall[] {
  let count = 1;
  let bytes = (waiting[0] as WaitingCall).bytes;
  while (count < waiting.length && bytes + (waiting[count] as WaitingCall).bytes <= maxBytes) {
    bytes += (waiting[count] as WaitingCall).bytes;
    count += 1;
  }
  return waiting.splice(0, count);
}

function isPermanent(error: unknown): boolean {
  return error instanceof EdgebusError && (error.code === "payload_too_large" || error.code === "bad_request");
}

/** Indexes of records (by their `sizes`) in order, cut where the running size would pass `maxBytes` (a larger record goes alone). */
function chunksOf(sizes: readonly number[], maxBytes: number): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let size = 0;
  sizes.forEach((bytes, i) => {
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(i);
    size += bytes;
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}
