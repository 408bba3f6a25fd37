import { Consumer } from "@platformatic/kafka";
import { EdgebusError } from "#shared/errors.ts";
import { clientOptions, type KafkaConnection } from "./connection.ts";
import { kafkaErrorCode, kafkaUnavailable } from "./kafka-errors.ts";
import { assertTopicName } from "./topic-admin.ts";

/** Record-batch attribute bit of transaction markers, which are not messages. */
const CONTROL_BATCH = 0b10_0000;
export const OFFSET_OUT_OF_RANGE = 1;

/** A record with its value as bytes (a CloudEvent's binary data must survive) and text headers. */
export interface TailRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** "" when the record has no key. */
  readonly key: string;
  /** Empty when the record has no value. */
  readonly value: Buffer;
  readonly headers: readonly { readonly key: string; readonly value: string }[];
}

/** The first and the next offset of a partition: records live at `start` ≤ offset < `end`. */
export interface PartitionBounds {
  readonly partition: number;
  readonly start: number;
  readonly end: number;
}

export interface TailPosition {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read. */
  readonly offset: number;
}

export interface TailResult extends TailPosition {
  /** Records at or after `offset`, in offset order. */
  readonly records: TailRecord[];
  /**
   * Where the next read of this partition starts: past every batch the answer held (transaction
   * markers included), so a reader never asks for the same batch twice; `offset` when nothing came.
   */
  readonly nextOffset: number;
  /** Set when this partition could not be read (`kafkaCode` then names Kafka's reason when known). */
  readonly error?: EdgebusError;
  readonly kafkaCode?: number;
}

export interface TailFetchOptions {
  /** Longest the broker holds the request when no partition has data (ms); 0 = answer at once. */
  readonly maxWaitMs: number;
  /** Bytes asked of Kafka per partition (Kafka still answers one whole batch when it is larger). */
  readonly partitionMaxBytes: number;
}

/**
 * Reads many partitions from given offsets without a consumer group, one Fetch request per
 * partition leader however many partitions: what the topic streams and the latest-events view
 * need (`bridges/topic-events/`). Each instance has its own connections, because a broker works
 * through one connection's requests in order: a stream's long poll must not wait behind a
 * gateway `/fetch` of 30 s, nor the other way round.
 *
 * Guarantees: each result holds the records of its partition from exactly its offset on, in
 * order; a partition that fails (leader moved, offset out of range) fails alone, with its Kafka
 * code; metadata is refreshed after a failure.
 */
export class PartitionTail {
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  #refresh = false;

  constructor(connection: KafkaConnection, role: string) {
    // A Consumer needs a group id to exist, but fetch() never joins the group.
    this.#consumer = new Consumer({ ...clientOptions(connection, role), groupId: `edgebus-bridge-${role}` });
  }

  /** Partition bounds of `topic`; `not_found` when it does not exist. */
  async bounds(topic: string): Promise<PartitionBounds[]> {
    assertTopicName(topic);
    const metadata = await this.#metadata([topic], true);
    const described = metadata.topics.get(topic);
    if (!described) throw new EdgebusError("not_found", `unknown topic: ${topic}`);
    try {
      const [earliest, latest] = await Promise.all([
        this.#consumer.listOffsets({ topics: [topic], timestamp: -2n }),
        this.#consumer.listOffsets({ topics: [topic], timestamp: -1n }),
      ]);
      const starts = earliest.get(topic) ?? [];
      const ends = latest.get(topic) ?? [];
      return Array.from({ length: described.partitionsCount }, (_, partition) => ({
        partition,
        start: Number(starts[partition] ?? 0n),
        end: Number(ends[partition] ?? 0n),
      }));
    } catch (error) {
      throw kafkaUnavailable(`listing the offsets of ${topic} failed`, error);
    }
  }

  /** One Fetch per leader, concurrently; a result per position, in the order given. */
  async fetch(positions: readonly TailPosition[], options: TailFetchOptions): Promise<TailResult[]> {
    if (positions.length === 0) return [];
    const topics = [...new Set(positions.map((p) => p.topic))];
    let metadata: Awaited<ReturnType<Consumer["metadata"]>>;
    try {
      metadata = await this.#metadata(topics, this.#refresh);
      this.#refresh = false;
    } catch (error) {
      this.#refresh = true;
      const failure = error instanceof EdgebusError ? error : kafkaUnavailable("reading metadata failed", error);
      return positions.map((p) => ({ ...p, records: [], nextOffset: p.offset, error: failure }));
    }
    const results = new Map<TailPosition, TailResult>();
    const byLeader = new Map<number, TailPosition[]>();
    for (const position of positions) {
      const described = metadata.topics.get(position.topic);
      const leader = described?.partitions[position.partition]?.leader ?? -1;
      if (!described || leader < 0) {
        this.#refresh = true;
        results.set(position, {
          ...position,
          records: [],
          nextOffset: position.offset,
          error: kafkaUnavailable(`${position.topic}/${position.partition} has no leader`, undefined),
        });
        continue;
      }
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), position]);
    }
    await Promise.all(
      [...byLeader].map(async ([leader, group]) => {
        for (const result of await this.#fetchFrom(leader, group, metadata, options)) {
          results.set(result.position, result.result);
        }
      }),
    );
    return positions.map((p) => results.get(p) as TailResult);
  }

  /** Metadata of `topics`, through the client's cache unless `refresh`. */
  async #metadata(topics: string[], refresh: boolean): ReturnType<Consumer["metadata"]> {
    try {
      return await this.#consumer.metadata({ topics, forceUpdate: refresh });
    } catch (error) {
      if (/unknown topic|UNKNOWN_TOPIC/i.test(String((error as Error)?.message ?? error))) {
        throw new EdgebusError("not_found", `unknown topic: ${topics.join(", ")}`);
      }
      throw kafkaUnavailable("reading metadata failed", error);
    }
  }

  async #fetchFrom(
    leader: number,
    group: TailPosition[],
    metadata: Awaited<ReturnType<Consumer["metadata"]>>,
    options: TailFetchOptions,
  ): Promise<{ position: TailPosition; result: TailResult }[]> {
    const byTopic = new Map<string, TailPosition[]>();
    for (const p of group) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    const topicIds = new Map([...byTopic.keys()].map((t) => [metadata.topics.get(t)?.id as string, t]));
    let response: Awaited<ReturnType<Consumer["fetch"]>>;
    try {
      response = await this.#consumer.fetch({
        node: leader,
        maxWaitTime: options.maxWaitMs,
        minBytes: 1,
        maxBytes: options.partitionMaxBytes * group.length,
        topics: [...byTopic].map(([topic, parts]) => ({
          topicId: metadata.topics.get(topic)?.id as string,
          partitions: parts.map((p) => ({
            partition: p.partition,
            currentLeaderEpoch: -1,
            fetchOffset: BigInt(p.offset),
            lastFetchedEpoch: -1,
            partitionMaxBytes: options.partitionMaxBytes,
          })),
        })),
      });
    } catch (error) {
      this.#refresh = true;
      const code = kafkaErrorCode(error);
      const failure = kafkaUnavailable(`fetch from broker ${leader} failed`, error);
      return group.map((position) => ({
        position,
        result: { ...position, records: [], nextOffset: position.offset, error: failure, kafkaCode: code },
      }));
    }
    const answered = new Map<string, TailResult>();
    for (const topicResponse of response.responses) {
      const topic = topicIds.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const partitionResponse of topicResponse.partitions) {
        const position = byTopic.get(topic)?.find((p) => p.partition === partitionResponse.partitionIndex);
        if (!position) continue;
        if (partitionResponse.errorCode !== 0) {
          this.#refresh = true;
          answered.set(`${topic}\u0000${position.partition}`, {
            ...position,
            records: [],
            nextOffset: position.offset,
            kafkaCode: partitionResponse.errorCode,
            error: kafkaUnavailable(
              `fetch from ${topic}/${position.partition} failed`,
              `error code ${partitionResponse.errorCode}`,
            ),
          });
          continue;
        }
        const records: TailRecord[] = [];
        let next = BigInt(position.offset);
        for (const batch of partitionResponse.records ?? []) {
          const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          if (!(batch.attributes & CONTROL_BATCH)) {
            for (const record of batch.records) {
              const offset = batch.firstOffset + BigInt(record.offsetDelta);
              if (offset < BigInt(position.offset)) continue;
              records.push({
                topic,
                partition: position.partition,
                offset: Number(offset),
                timestamp: Number(batch.firstTimestamp + record.timestampDelta),
                key: record.key?.toString("utf8") ?? "",
                value: record.value ?? Buffer.alloc(0),
                headers: record.headers.map(([k, v]) => ({
                  key: k?.toString("utf8") ?? "",
                  value: v?.toString("utf8") ?? "",
                })),
              });
            }
          }
          if (batchEnd > next) next = batchEnd;
        }
        answered.set(`${topic}\u0000${position.partition}`, { ...position, records, nextOffset: Number(next) });
      }
    }
    return group.map((position) => ({
      position,
      result: answered.get(`${position.topic}\u0000${position.partition}`) ?? {
        ...position,
        records: [],
        nextOffset: position.offset,
      },
    }));
  }

  async close(): Promise<void> {
    await this.#consumer.close();
  }
}
